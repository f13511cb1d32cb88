"""Agents acting on orders from the console: cancel, refund and goodwill vouchers, for the verified customer
only, within cumulative limits, and only what the order's state allows.

Whose orders. An agent acts for the customer verified in this conversation and no one else
(bot/core/customer_verification.py): verified by the assistant (the handoff packet's `verified_customer_id`),
or by the agent who has the conversation, who checked by other means and recorded how (`confirm_identity`).
A cancel or refund on order N is done only when a customer is verified and N is theirs; the packet's order
(the one the customer talked about) qualifies only that way too. Anyone who merely typed a number is not
verified: then every action is refused with "verify the customer first" (403 `not_verified`), and an order of
another customer is refused with 403 `not_this_customer`. A voucher always goes to the verified customer; a
customer id sent with the request that is not theirs is refused. The order panel shows such an order without
its owner's personal details (`order_view`).

What the order allows. The order card offers cancel, refund and voucher with what each would do (the refund
the cancel gives back, the most that can be refunded now) or why it is not offered, in the shop's own words
(`refund_quote` raises the refusal `request_refund` would); the shop refuses a disallowed action anyway. The
card also lists the order's refunds and the customer's vouchers, so nobody gives twice by mistake.

Limits. Each role has its own (AGENT_REFUND_LIMIT / AGENT_VOUCHER_LIMIT, SUPERVISOR_REFUND_LIMIT /
SUPERVISOR_VOUCHER_LIMIT), and they are cumulative: the refunds on one order (in any conversation) and the
refunds in one conversation each stay within the role's refund limit; the vouchers in one conversation within
its voucher limit. Whatever was given counts, whoever gave it, so a supervisor tops up to their own limit. A
cancel is not counted: its refund is the shop's policy (total less fee), not the agent's choice. The money is
reserved before the order system is asked (bot/store/order_actions.py), so two requests at once cannot both
pass a limit only one of them fits under; a refusal by the order system frees the reservation, but when the
order system does not answer it stays (marked not confirmed), since the money may have gone. Every action is
recorded with the agent's name, and the customer is told in a message from the shop (not in the agent's
voice) what was done and when the money arrives: the date the order system gives the refund.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from actions.orders.order_messages import money, paid_with
from actions.orders.order_system import (
    ActionRefused,
    Order,
    OrderNotFound,
    OrderStatus,
    OrderSystem,
    OrderSystemUnavailable,
    Refund,
    to_json,
)
from bot.core.customer_verification import Verification, order_view
from bot.core.order_news import cancelled_text, refund_text, voucher_text
from bot.core.settings import HubSettings
from bot.domain.amounts import BadAmount, parse_amount
from bot.domain.errors import ConfigurationError, FrontlineError
from bot.domain.vocabulary import Role
from bot.store.agents import Agent
from bot.store.conversations import ConversationStore
from bot.store.identity_checks import IdentityCheck, IdentityChecks
from bot.store.order_actions import ZERO, Cap, LimitReached, OrderAction, OrderActionLog

MIN_CHECK_NOTE = 5
"""The fewest characters of an agent's note on how they checked who a customer is ("phone" passes, "ok" not)."""


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
        self._checks = IdentityChecks(conversations.engine)

    def limits_for(self, agent: Agent) -> Limits:
        return self._limits.get(agent.role, NO_LIMITS)

    async def verification(self, conversation_id: str) -> Verification:
        current = await self._conversations.get(conversation_id)
        handoff = await self._conversations.reads.handoff(current.handoff_id) if current.handoff_id else None
        return Verification.of(handoff.packet if handoff else {}, await self._checks.latest(conversation_id))

    async def taken(self, conversation_id: str) -> list[dict[str, Any]]:
        """What agents did in the conversation, for the console: money actions and identity checks, oldest first."""
        done = await self._log.of(conversation_id)
        check = await self._checks.latest(conversation_id)
        if check is not None:
            done.append(
                {
                    "kind": "identity_check",
                    "result": f"checked who the customer is (owner of order #{check.order_number}): {check.how}",
                    "reason": None,
                    "agent_name": check.agent_name,
                    "at": check.to_json()["at"],
                }
            )
        return sorted(done, key=lambda entry: str(entry["at"]))

    async def panel(self, agent: Agent, conversation_id: str, packet: Mapping[str, Any]) -> dict[str, Any]:
        """The console's order card: the packet's order (personal details only if verified), who is verified and
        how, what this agent may still give, what the order allows, and its refunds and the customer's vouchers."""
        verification = Verification.of(packet, await self._checks.latest(conversation_id))
        order, order_error = None, None
        if verification.packet_order:
            try:
                order = await self._orders.get_order(verification.packet_order)
            except OrderSystemUnavailable as exc:
                order_error = str(exc)
        limits = await self.allowance(agent, conversation_id, order.number if order else None)
        panel: dict[str, Any] = {
            "order": order_view(order, verification) if order else None,
            "order_error": order_error,
            "verification": verification.to_json(order),
            "limits": limits,
            "offers": None,
            "refunds": [],
            "vouchers": [],
        }
        if order is None or not verification.owns(order):
            return panel
        try:
            refunds, vouchers, refundable = await asyncio.gather(
                self._orders.refunds_for(order.number),
                self._orders.vouchers_for(order.customer_id),
                self._refundable(order.number),
            )
        except (OrderSystemUnavailable, OrderNotFound) as exc:
            return panel | {"order_error": str(exc)}
        return panel | {
            "offers": offers(order, refundable, limits),
            "refunds": to_json(refunds),
            "vouchers": to_json(vouchers),
        }

    async def confirm_identity(self, agent: Agent, conversation_id: str, how: str) -> IdentityCheck:
        """The agent who has the conversation vouches that the person owns the order they talked about, having
        checked by other means (`how`); recorded, it unlocks the order's details and actions here."""
        if len(how.strip()) < MIN_CHECK_NOTE:
            raise OrderDeskError(
                'Say how you checked who this is (at least a few words, e.g. "postcode and last card digits").',
                code="how_missing",
            )
        verification = await self.verification(conversation_id)
        if verification.customer_id is not None:
            raise OrderDeskError(f"This customer is verified already ({verification.how}).", code="already_verified")
        if verification.packet_order is None:
            raise OrderDeskError(
                "No order is linked to this conversation, so there is no owner to check the customer against.",
                code="no_order",
            )
        order = await self._orders.get_order(verification.packet_order)
        if order is None:
            raise OrderDeskError(f"There is no order {verification.packet_order}.")
        check = await self._checks.record(conversation_id, agent.id, order.number, order.customer_id, how.strip())
        if check is None:
            raise OrderDeskError(
                "Only the agent who has the conversation can vouch for the customer: claim it first.",
                code="not_yours",
                status=403,
            )
        return check

    async def _refundable(self, number: str) -> Decimal | str:
        """What a refund could return now, or the shop's reason why there can be none."""
        try:
            return await self._orders.refund_quote(number)
        except ActionRefused as refused:
            return refused.message

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
            customer_text=cancelled_text(order, refund, await self._newest_refund(order.number)),
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
            customer_text=refund_text(order, refund),
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
            customer_text=voucher_text(voucher),
            record=to_json(voucher),
        )
        await self._log.settle(action_id, result.summary, voucher.amount)
        return result

    async def _newest_refund(self, number: str) -> Refund | None:
        """The refund a cancel opened, for when it arrives; None if the shop does not say (the customer is then
        told it will email)."""
        try:
            refunds = await self._orders.refunds_for(number)
        except (OrderSystemUnavailable, OrderNotFound):
            return None
        return refunds[0] if refunds else None

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


def offers(order: Order, refundable: Decimal | str, limits: Mapping[str, Any]) -> dict[str, Any]:
    """Which actions the order's state and the agent's limits allow, with what each would do or why it is not
    offered (shown in place of its form)."""
    refund_left = Decimal(str(limits.get("refund_left") or ZERO))
    voucher_left = Decimal(str(limits.get("voucher_left") or ZERO))
    if order.can_be_cancelled:
        cancel: dict[str, Any] = {"allowed": True, "refund": str(order.total - order.cancellation_fee)}
    elif order.status == OrderStatus.CANCELLED:
        cancel = {"allowed": False, "why": "The order is cancelled already."}
    else:
        cancel = {
            "allowed": False,
            "why": f"Only an order that has not shipped can be cancelled; this one is {order.status.label}.",
        }
    if isinstance(refundable, str):
        refund: dict[str, Any] = {"allowed": False, "why": refundable}
    elif refundable <= 0:
        refund = {"allowed": False, "why": "Nothing is left to refund on this order."}
    elif refund_left <= 0:
        refund = {"allowed": False, "why": "Your refund limit here is used up; a supervisor can refund more."}
    else:
        refund = {"allowed": True, "refundable": str(refundable), "max": str(min(refundable, refund_left))}
    if voucher_left > 0:
        voucher: dict[str, Any] = {"allowed": True, "max": str(voucher_left)}
    else:
        voucher = {"allowed": False, "why": "Your voucher limit in this conversation is used up."}
    goes_to = paid_with(order.payment_method, "the customer's")
    return {"cancel": cancel, "refund": refund, "voucher": voucher, "money_goes_to": goes_to}


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
