"""Agents acting on orders from the console: cancel, refund and goodwill vouchers, for the verified customer
only and within cumulative limits.

Whose orders. An agent acts for the customer verified in this conversation and no one else: the
`verified_customer_id` of the conversation's handoff packet, set when the customer proved to the bot that they
own an order (they typed its email address). A cancel or refund on order N is done only when a customer is
verified and N is theirs; the packet's order (the one the customer talked about) qualifies only that way too.
Anyone who merely typed a number is not verified: then every action is refused with "verify the customer
first" (403 `not_verified`), and an order of another customer is refused with 403 `not_this_customer`. A
voucher always goes to the verified customer; a customer id sent with the request that is not theirs is
refused. The order panel shows such an order without its owner's personal details (`order_view`).

Limits. Each role has its own (AGENT_REFUND_LIMIT / AGENT_VOUCHER_LIMIT, SUPERVISOR_REFUND_LIMIT /
SUPERVISOR_VOUCHER_LIMIT), and they are cumulative: the refunds on one order (in any conversation) and the
refunds in one conversation each stay within the role's refund limit; the vouchers in one conversation within
its voucher limit. Whatever was given counts, whoever gave it, so a supervisor tops up to their own limit. A
cancel is not counted: its refund is the shop's policy (total less fee), not the agent's choice. The money is
reserved before the order system is asked (bot/store/order_actions.py), so two requests at once cannot both
pass a limit only one of them fits under; a refusal by the order system frees the reservation, but when the
order system does not answer it stays (marked not confirmed), since the money may have gone. Every action is
recorded with the agent's name, and the customer is told what was done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from actions.orders.order_messages import money
from actions.orders.order_number import order_number_from
from actions.orders.order_system import (
    ActionRefused,
    Order,
    OrderNotFound,
    OrderSystem,
    OrderSystemUnavailable,
    to_json,
)
from bot.core.settings import HubSettings
from bot.domain.amounts import BadAmount, parse_amount
from bot.domain.errors import ConfigurationError, FrontlineError
from bot.domain.vocabulary import Role
from bot.store.agents import Agent
from bot.store.conversations import ConversationStore
from bot.store.order_actions import ZERO, Cap, LimitReached, OrderAction, OrderActionLog

PUBLIC_ORDER_FIELDS = (
    "number",
    "status",
    "currency",
    "carrier",
    "expected_delivery",
    "original_expected_delivery",
    "delivered_at",
    "delay_reason",
)
"""What anyone with the order number may see (what the bot tells an unverified customer): no name, email,
address, items, tracking or payment."""


class OrderDeskError(FrontlineError, ValueError):
    """The agent's request cannot be carried out; `message` says why, for the console."""

    status = 422
    code = "refused"


@dataclasses.dataclass(frozen=True)
class Limits:
    """The most a role may refund and give as vouchers (cumulative, see the module docstring)."""

    refund: Decimal
    voucher: Decimal

    @classmethod
    def parse(cls, refund: str, voucher: str, names: tuple[str, str]) -> Limits:
        try:
            return cls(parse_amount(refund), parse_amount(voucher))
        except BadAmount as exc:
            raise ConfigurationError(f"{' and '.join(names)} must be amounts like 100.00: {exc.message}") from exc


NO_LIMITS = Limits(ZERO, ZERO)
"""Roles that do not act on orders (trainers)."""


def desk_limits(settings: HubSettings) -> dict[str, Limits]:
    return {
        Role.AGENT: Limits.parse(
            settings.refund_limit, settings.voucher_limit, ("AGENT_REFUND_LIMIT", "AGENT_VOUCHER_LIMIT")
        ),
        Role.SUPERVISOR: Limits.parse(
            settings.supervisor_refund_limit,
            settings.supervisor_voucher_limit,
            ("SUPERVISOR_REFUND_LIMIT", "SUPERVISOR_VOUCHER_LIMIT"),
        ),
    }


@dataclasses.dataclass(frozen=True)
class Verification:
    """Who proved, in this conversation, that they are the shop's customer; and the order they talked about."""

    customer_id: str | None
    packet_order: str | None

    @classmethod
    def of(cls, packet: Mapping[str, Any]) -> Verification:
        customer = packet.get("customer")
        verified = customer.get("verified_customer_id") if isinstance(customer, dict) else None
        return cls(verified.strip() if isinstance(verified, str) and verified.strip() else None, order_in(packet))

    def owns(self, order: Order) -> bool:
        return self.customer_id is not None and order.customer_id == self.customer_id

    def to_json(self, order: Order | None) -> dict[str, Any]:
        return {
            "verified": self.customer_id is not None,
            "customer_id": self.customer_id,
            "order_verified": order is not None and self.owns(order),
        }


@dataclasses.dataclass(frozen=True)
class DeskResult:
    summary: str
    customer_text: str
    record: dict[str, Any]


class OrderDesk:
    def __init__(self, orders: OrderSystem, conversations: ConversationStore, limits: Mapping[str, Limits]) -> None:
        self._orders = orders
        self._conversations = conversations
        self._limits = dict(limits)
        self._log = OrderActionLog(conversations.engine)

    def limits_for(self, agent: Agent) -> Limits:
        return self._limits.get(agent.role, NO_LIMITS)

    async def verification(self, conversation_id: str) -> Verification:
        current = await self._conversations.get(conversation_id)
        handoff = await self._conversations.reads.handoff(current.handoff_id) if current.handoff_id else None
        return Verification.of(handoff.packet if handoff else {})

    async def taken(self, conversation_id: str) -> list[dict[str, Any]]:
        """The money actions agents took in the conversation, for the console."""
        return await self._log.of(conversation_id)

    async def panel(self, agent: Agent, conversation_id: str, packet: Mapping[str, Any]) -> dict[str, Any]:
        """The console's order card: the packet's order (personal details only if verified), who is verified,
        and what this agent may still give."""
        verification = Verification.of(packet)
        order, order_error = None, None
        if verification.packet_order:
            try:
                order = await self._orders.get_order(verification.packet_order)
            except OrderSystemUnavailable as exc:
                order_error = str(exc)
        return {
            "order": order_view(order, verification) if order else None,
            "order_error": order_error,
            "verification": verification.to_json(order),
            "limits": await self.allowance(agent, conversation_id, order.number if order else None),
        }

    async def allowance(self, agent: Agent, conversation_id: str | None, number: str | None) -> dict[str, Any]:
        """The agent's limits and, in a conversation, what is left of them there (and on its order)."""
        limits = self.limits_for(agent)
        allowance: dict[str, Any] = {"role": agent.role, "refund": str(limits.refund), "voucher": str(limits.voucher)}
        if conversation_id is None:
            return allowance
        caps = [
            Cap("refund", limits.refund, conversation_id=conversation_id),
            Cap("voucher", limits.voucher, conversation_id=conversation_id),
            Cap("refund", limits.refund, order_number=number),
        ]
        given = await self._log.given(caps if number else caps[:2])
        left = [max(cap.limit - amount, ZERO) for cap, amount in zip(caps, given, strict=False)]
        return allowance | {
            "refund_left_in_conversation": str(left[0]),
            "refund_left_on_order": str(left[2]) if number else None,
            "refund_left": str(min(left[0], left[2]) if number else left[0]),
            "voucher_left": str(left[1]),
        }

    async def cancel(self, agent: Agent, conversation_id: str, number: str, reason: str) -> DeskResult:
        order = await self._bound_order(conversation_id, number)
        try:
            cancelled = await self._orders.cancel_order(order.number, reason, _actor(agent))
        except ActionRefused as refused:
            raise OrderDeskError(refused.message) from refused
        refund = order.total - order.cancellation_fee
        result = DeskResult(
            summary=f"cancelled order #{order.number}",
            customer_text=f"{agent.display_name} has cancelled order #{order.number}. "
            + (f"{money(refund, order.currency)} goes back to your {order.payment_method}." if refund > 0 else ""),
            record=to_json(cancelled),
        )
        action = OrderAction(conversation_id, agent.id, "cancel", order.number, refund, reason)
        await self._log.record(action, result.summary)
        return result

    async def refund(self, agent: Agent, conversation_id: str, number: str, amount: object, reason: str) -> DeskResult:
        value = parse_amount(amount)
        order = await self._bound_order(conversation_id, number)
        limit = self.limits_for(agent).refund
        caps = [Cap("refund", limit, order_number=order.number), Cap("refund", limit, conversation_id=conversation_id)]
        action = OrderAction(conversation_id, agent.id, "refund", order.number, value, reason)
        pending = f"refund of {money(value, order.currency)} on #{order.number} (not confirmed by the order system)"
        action_id = await self._reserve(agent, action, caps, order.currency, pending)
        try:
            refund = await self._orders.request_refund(order.number, reason, _actor(agent), amount=value)
        except (ActionRefused, OrderNotFound) as refused:
            await self._log.release(action_id)
            raise OrderDeskError(refused.message) from refused
        result = DeskResult(
            summary=f"refund {refund.refund_id} of {money(refund.amount, order.currency)} on #{order.number}",
            customer_text=f"{agent.display_name} has started a refund of {money(refund.amount, order.currency)} on "
            f"order #{order.number} (reference {refund.refund_id}).",
            record=to_json(refund),
        )
        await self._log.settle(action_id, result.summary, refund.amount)
        return result

    async def voucher(
        self,
        agent: Agent,
        conversation_id: str,
        amount: object,
        currency: str,
        reason: str,
        claimed_customer_id: str | None = None,
    ) -> DeskResult:
        """A voucher for the conversation's verified customer; `claimed_customer_id` (what the console sent, if
        anything) must be that customer."""
        value = parse_amount(amount)
        customer_id = (await self.verification(conversation_id)).customer_id
        if customer_id is None:
            raise _not_verified("give a voucher")
        if claimed_customer_id is not None and claimed_customer_id != customer_id:
            raise OrderDeskError(
                "Vouchers go only to the customer verified in this conversation, not to another customer id.",
                code="not_this_customer",
                status=403,
            )
        caps = [Cap("voucher", self.limits_for(agent).voucher, conversation_id=conversation_id)]
        action = OrderAction(conversation_id, agent.id, "voucher", None, value, reason)
        pending = f"voucher of {money(value, currency)} (not confirmed by the order system)"
        action_id = await self._reserve(agent, action, caps, currency, pending)
        try:
            voucher = await self._orders.issue_voucher(customer_id, value, currency, reason, _actor(agent))
        except ActionRefused as refused:
            await self._log.release(action_id)
            raise OrderDeskError(refused.message) from refused
        result = DeskResult(
            summary=f"voucher {voucher.code} of {money(voucher.amount, currency)}",
            customer_text=f"{agent.display_name} has given you a {money(voucher.amount, currency)} voucher: "
            f"use the code {voucher.code} on your next order.",
            record=to_json(voucher),
        )
        await self._log.settle(action_id, result.summary, voucher.amount)
        return result

    async def _bound_order(self, conversation_id: str, number: str) -> Order:
        """The order, if this conversation's verified customer owns it (see the module docstring)."""
        verification = await self.verification(conversation_id)
        order = await self._orders.get_order(number)
        if order is None:
            raise OrderDeskError(f"There is no order {number}.")
        if verification.customer_id is None:
            raise _not_verified(f"act on order #{order.number}")
        if not verification.owns(order):
            raise OrderDeskError(
                f"Order #{order.number} is not an order of the customer verified in this conversation; agents act "
                "only on the verified customer's orders.",
                code="not_this_customer",
                status=403,
            )
        return order

    async def _reserve(self, agent: Agent, action: OrderAction, caps: list[Cap], currency: str, pending: str) -> int:
        try:
            return await self._log.reserve(action, caps, pending)
        except LimitReached as reached:
            raise OrderDeskError(_over_limit(agent, reached, currency), code="over_limit") from reached


def order_view(order: Order, verification: Verification) -> dict[str, Any]:
    """The order for the console: all of it for its verified owner, only what anyone may know otherwise."""
    data: dict[str, Any] = to_json(order)
    if verification.owns(order):
        return data
    return {key: data.get(key) for key in PUBLIC_ORDER_FIELDS} | {"personal_details_hidden": True}


def order_in(packet: Mapping[str, Any]) -> str | None:
    """The order the customer talked about: the packet's `order_id`, else the last order number they typed."""
    number = order_number_from(packet.get("order_id"))
    if number:
        return number
    entities = packet.get("entities")
    for value in reversed((entities.get("order_id") if isinstance(entities, dict) else None) or []):
        number = order_number_from(value)
        if number:
            return number
    return None


def _not_verified(what: str) -> OrderDeskError:
    return OrderDeskError(
        f"Verify the customer first: nobody in this conversation has proved they own an order, so you cannot {what}. "
        "The customer proves it to the assistant by confirming the order's email address.",
        code="not_verified",
        status=403,
    )


def _over_limit(agent: Agent, reached: LimitReached, currency: str) -> str:
    cap = reached.cap
    kind = "Refunds" if cap.kind == "refund" else "Goodwill vouchers"
    scope = f"on order #{cap.order_number}" if cap.order_number else "in one conversation"
    text = (
        f"{kind} {scope} are limited to {money(cap.limit, currency)} for {agent.role}s; "
        f"{money(reached.given, currency)} has been given already, so "
        + (f"{money(reached.left, currency)} is left." if reached.left > 0 else "nothing is left.")
    )
    return text + (" Ask a supervisor for more." if agent.role != Role.SUPERVISOR else "")


def _actor(agent: Agent) -> str:
    return f"agent {agent.display_name} ({agent.username})"
