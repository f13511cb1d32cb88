/*
 * Cancel, refund and voucher forms, for the agent who owns the conversation and only for the customer verified in
 * it (details.js builds them then). The limits are the signed-in agent's role's, counted over what was already
 * given (GET /api/conversations/{id}'s `limits`: refund, voucher, refund_left, voucher_left).
 */

import { runAction, showActionError, showSuccess } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { append, el } from "../dom.js";
import { money } from "../format.js";

var DEFAULT_REASONS = {
  cancel: "Cancelled by an agent at the customer's request",
  refund: "Refund agreed with the customer",
  voucher: "Goodwill gesture",
};

/** `done()` runs after the order system has accepted an action (the conversation is then reloaded). */
export function buildOrderActions(data, done) {
  var order = data.order;
  var limits = data.limits || {};
  var conversationId = data.conversation.id;
  var box = el("div", { class: "order-actions" });
  box.appendChild(el("h4", { class: "card__subtitle" }, "Act on this order"));

  // Cancel
  var cancelRow = el("div", { class: "action-row" });
  var cancelReason = el("input", { class: "input", type: "text", maxlength: 500, placeholder: "Reason (optional)", "aria-label": "Cancellation reason", "data-testid": "cancel-reason" });
  var cancelButton = el("button", { class: "btn btn--danger", type: "button", "data-testid": "cancel-order" }, "Cancel order");
  append(cancelRow, cancelReason, cancelButton);
  box.appendChild(el("p", { class: "action-label" }, "Cancel (only before it ships)"));
  box.appendChild(cancelRow);
  cancelButton.addEventListener("click", function () {
    orderAction(cancelButton, cancelRow, conversationPath(conversationId, "/orders/" + encodeURIComponent(order.number) + "/cancel"), {
      reason: cancelReason.value.trim() || DEFAULT_REASONS.cancel,
    }, [cancelReason], done);
  });

  // Refund
  var refundRow = el("div", { class: "action-row" });
  var refundAmount = amountInput("refund-amount", "Refund amount", limits.refund_left || limits.refund);
  var refundReason = el("input", { class: "input", type: "text", maxlength: 500, placeholder: "Reason", "aria-label": "Refund reason", "data-testid": "refund-reason" });
  var refundButton = el("button", { class: "btn", type: "button", "data-testid": "refund" }, "Refund");
  append(refundRow, refundAmount, refundReason, refundButton);
  box.appendChild(el("p", { class: "action-label", "data-testid": "refund-limit" }, "Refund" + limitText(limits.refund, limits.refund_left, limits.role, order.currency)));
  box.appendChild(refundRow);
  refundButton.addEventListener("click", function () {
    if (!validAmount(refundAmount, refundRow)) {
      return;
    }
    orderAction(refundButton, refundRow, conversationPath(conversationId, "/orders/" + encodeURIComponent(order.number) + "/refund"), {
      amount: refundAmount.value.trim(),
      reason: refundReason.value.trim() || DEFAULT_REASONS.refund,
    }, [refundAmount, refundReason], done);
  });

  // Goodwill voucher
  var voucherRow = el("div", { class: "action-row" });
  var voucherAmount = amountInput("voucher-amount", "Voucher amount", limits.voucher_left || limits.voucher);
  var voucherReason = el("input", { class: "input", type: "text", maxlength: 500, placeholder: "Reason (optional)", "aria-label": "Voucher reason", "data-testid": "voucher-reason" });
  var voucherButton = el("button", { class: "btn", type: "button", "data-testid": "voucher" }, "Give voucher");
  append(voucherRow, voucherAmount, voucherReason, voucherButton);
  box.appendChild(el("p", { class: "action-label", "data-testid": "voucher-limit" }, "Goodwill voucher" + limitText(limits.voucher, limits.voucher_left, limits.role, order.currency)));
  box.appendChild(voucherRow);
  voucherButton.addEventListener("click", function () {
    if (!validAmount(voucherAmount, voucherRow)) {
      return;
    }
    orderAction(voucherButton, voucherRow, conversationPath(conversationId, "/voucher"), {
      amount: voucherAmount.value.trim(),
      currency: order.currency,
      reason: voucherReason.value.trim() || DEFAULT_REASONS.voucher,
    }, [voucherAmount, voucherReason], done);
  });
  return box;
}

/** " · €40.00 left of €100.00 for agents": what this agent may still give here, counting what was given. */
function limitText(limit, left, role, currency) {
  if (!limit) {
    return "";
  }
  var whom = role ? " for " + role + "s" : "";
  if (left === undefined || left === null || left === limit) {
    return " · up to " + money(limit, currency) + whom;
  }
  return " · " + money(left, currency) + " left of " + money(limit, currency) + whom + " (counting what was already given)";
}

function amountInput(testid, label, limit) {
  return el("input", {
    class: "input input--amount",
    type: "number",
    inputmode: "decimal",
    min: "0.01",
    step: "0.01",
    max: limit || null,
    placeholder: "0.00",
    "aria-label": label,
    "data-testid": testid,
  });
}

function validAmount(input, anchor) {
  var value = Number(input.value);
  if (!input.value.trim() || isNaN(value) || value <= 0) {
    showActionError(anchor, "Enter an amount, like 12.50.");
    input.focus();
    return false;
  }
  return true;
}

function orderAction(button, anchor, path, body, inputs, done) {
  runAction(button, anchor, function () {
    return api("POST", path, body);
  }).then(function (result) {
    if (!result) {
      return;
    }
    inputs.forEach(function (input) {
      input.value = "";
    });
    showSuccess(anchor, "Done: " + (result.summary || "the order system accepted it") + ". The customer has been told.");
    done();
  });
}
