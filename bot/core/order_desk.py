"""Agents acting on orders from the console: cancel, refund up to the shop's limit, goodwill vouchers.

Through the same order-system interface the bot's actions use; every action is recorded with the agent's
name, and the customer is told what was done.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import insert

from actions.orders.order_messages import money
from actions.orders.order_system import ActionRefused, Order, OrderSystem, to_json
from bot.domain.errors import FrontlineError
from bot.store import schema as t
from bot.store.agents import Agent
from bot.store.conversations import ConversationStore
from bot.store.database import in_transaction
from bot.store.schema import utcnow


class OrderDeskError(FrontlineError, ValueError):
    """The agent's request cannot be carried out; `message` says why, for the console."""

    status = 422
    code = "refused"


@dataclasses.dataclass(frozen=True)
class DeskResult:
    summary: str
    customer_text: str
    record: dict[str, Any]


class OrderDesk:
    def __init__(
        self, orders: OrderSystem, conversations: ConversationStore, refund_limit: str, voucher_limit: str
    ) -> None:
        self._orders = orders
        self._conversations = conversations
        self._refund_limit = Decimal(refund_limit)
        self._voucher_limit = Decimal(voucher_limit)

    @property
    def limits(self) -> dict[str, str]:
        return {"refund": str(self._refund_limit), "voucher": str(self._voucher_limit)}

    async def order(self, number: str) -> Order | None:
        return await self._orders.get_order(number)

    async def cancel(self, agent: Agent, conversation_id: str, number: str, reason: str) -> DeskResult:
        order = await self._require(number)
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
        await self._log(agent, conversation_id, "cancel", order.number, refund, reason, result.summary)
        return result

    async def refund(self, agent: Agent, conversation_id: str, number: str, amount: str, reason: str) -> DeskResult:
        order = await self._require(number)
        value = _amount(amount)
        if value > self._refund_limit:
            raise OrderDeskError(
                f"Refunds above {money(self._refund_limit, order.currency)} need a supervisor; ask one to do it."
            )
        try:
            refund = await self._orders.request_refund(order.number, reason, _actor(agent), amount=value)
        except ActionRefused as refused:
            raise OrderDeskError(refused.message) from refused
        result = DeskResult(
            summary=f"refund {refund.refund_id} of {money(refund.amount, order.currency)} on #{order.number}",
            customer_text=f"{agent.display_name} has started a refund of {money(refund.amount, order.currency)} on "
            f"order #{order.number} (reference {refund.refund_id}).",
            record=to_json(refund),
        )
        await self._log(agent, conversation_id, "refund", order.number, refund.amount, reason, result.summary)
        return result

    async def voucher(
        self, agent: Agent, conversation_id: str, customer_id: str, amount: str, currency: str, reason: str
    ) -> DeskResult:
        value = _amount(amount)
        if value > self._voucher_limit:
            raise OrderDeskError(f"Goodwill vouchers are limited to {money(self._voucher_limit, currency)}.")
        try:
            voucher = await self._orders.issue_voucher(customer_id, value, currency, reason, _actor(agent))
        except ActionRefused as refused:
            raise OrderDeskError(refused.message) from refused
        result = DeskResult(
            summary=f"voucher {voucher.code} of {money(voucher.amount, currency)}",
            customer_text=f"{agent.display_name} has given you a {money(voucher.amount, currency)} voucher: "
            f"use the code {voucher.code} on your next order.",
            record=to_json(voucher),
        )
        await self._log(agent, conversation_id, "voucher", None, voucher.amount, reason, result.summary)
        return result

    async def _require(self, number: str) -> Order:
        order = await self._orders.get_order(number)
        if order is None:
            raise OrderDeskError(f"There is no order {number}.")
        return order

    async def _log(
        self,
        agent: Agent,
        conversation_id: str,
        kind: str,
        number: str | None,
        amount: Decimal | None,
        reason: str,
        result: str,
    ) -> None:
        await in_transaction(
            self._conversations.engine,
            lambda conn: conn.execute(
                insert(t.order_actions).values(
                    conversation_id=conversation_id,
                    agent_id=agent.id,
                    kind=kind,
                    order_number=number,
                    amount=amount,
                    reason=reason,
                    result=result,
                    created_at=utcnow(),
                )
            ),
        )


def _actor(agent: Agent) -> str:
    return f"agent {agent.display_name} ({agent.username})"


def _amount(raw: str) -> Decimal:
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise OrderDeskError("The amount must be a number like 12.50.") from exc
    if value <= 0:
        raise OrderDeskError("The amount must be more than zero.")
    return value
