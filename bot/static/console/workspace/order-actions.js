/*
 * Cancel, refund and goodwill voucher, for the agent who owns the conversation and only for the customer verified
 * in it (details.js builds this then). Each is offered only when the order's state and the agent's limits allow
 * it (the hub's `offers`; otherwise a short line says why), and each goes through a confirmation step that says
 * what will happen, to which order, for how much and where the money goes (confirm-step.js): nothing is sent
 * before the agent confirms. The limits are the signed-in agent's role's, counted over what was already given
 * (GET /api/conversations/{id}'s `limits`).
 */

import { runAction, showActionError, showSuccess } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { append, el } from "../dom.js";
import { money } from "../format.js";
import { confirmStep } from "./confirm-step.js";

var DEFAULT_REASONS = {
  cancel: "Cancelled by an agent at the customer's request",
  refund: "Refund agreed with the customer",
  voucher: "Goodwill gesture",
};

/** `done()` runs after the order system has accepted an action (the conversation is then reloaded). */
export function buildOrderActions(data, done) {
  var box = el("section", { class: "order-actions", "aria-labelledby": "order-actions-title", "data-testid": "order-actions" });
  box.appendChild(el("h4", { class: "card__subtitle", id: "order-actions-title" }, "Act on this order"));
  if (!data.offers) {
    box.appendChild(el("p", { class: "action-unavailable" }, "The order system did not answer, so no action is offered; try again shortly."));
    return box;
  }
  var offers = data.offers;
  var context = {
    data: data,
    order: data.order,
    offers: offers,
    limits: data.limits || {},
    goesTo: offers.money_goes_to || "the customer's original payment method",
    box: box,
    done: done,
  };
  box.appendChild(cancelPart(context));
  box.appendChild(refundPart(context));
  box.appendChild(voucherPart(context));
  return box;
}

function cancelPart(context) {
  var order = context.order;
  var offer = context.offers.cancel || {};
  if (!offer.allowed) {
    return unavailable("Cancel", offer.why, "cancel-unavailable");
  }
  var part = el("div", { class: "action-part" });
  var refund = Number(offer.refund) > 0 ? money(offer.refund, order.currency) + " back to " + context.goesTo : "nothing to refund";
  var fee = Number(order.cancellation_fee) > 0 ? " (the " + money(order.cancellation_fee, order.currency) + " cancellation fee is kept)" : "";
  var row = el("div", { class: "action-row" });
  var reason = reasonInput("cancel-reason", "Cancellation reason", "Reason (optional)");
  var button = el("button", { class: "btn btn--danger", type: "button", "data-testid": "cancel-order" }, "Cancel order…");
  append(row, reason, button);
  append(part, el("p", { class: "action-label" }, "Cancel the order · refunds " + refund + fee), row);
  button.addEventListener("click", function () {
    var why = reason.value.trim() || DEFAULT_REASONS.cancel;
    confirmStep({
      title: "Cancel order #" + order.number + "?",
      rows: [
        ["Order", "#" + order.number + " · " + words(order.status) + " · " + money(order.total, order.currency)],
        ["Refund", refund + fee],
        ["Reason", why],
      ],
      note: "The shop cancels the order at once. The customer is told in the chat, with when the money arrives.",
      confirmLabel: "Cancel the order",
      backLabel: "Keep the order",
      danger: true,
    }).then(function (confirmed) {
      if (confirmed) {
        send(context, button, row, "/orders/" + encodeURIComponent(order.number) + "/cancel", { reason: why }, [reason]);
      }
    });
  });
  return part;
}

function refundPart(context) {
  var order = context.order;
  var limits = context.limits;
  var offer = context.offers.refund || {};
  if (!offer.allowed) {
    return unavailable("Refund", offer.why, "refund-unavailable");
  }
  var part = el("div", { class: "action-part" });
  var row = el("div", { class: "action-row" });
  var amount = amountInput("refund-amount", "Refund amount", offer.max);
  var reason = reasonInput("refund-reason", "Refund reason", "Reason");
  var button = el("button", { class: "btn", type: "button", "data-testid": "refund" }, "Refund…");
  append(row, reason, amount, button);
  append(
    part,
    el(
      "p",
      { class: "action-label", "data-testid": "refund-limit" },
      "Refund · " + money(offer.refundable, order.currency) + " left to refund" + limitText(limits.refund, limits.refund_left, limits.role, order.currency)
    ),
    row
  );
  button.addEventListener("click", function () {
    if (!validAmount(amount, row, offer.max, order.currency)) {
      return;
    }
    var value = amount.value.trim();
    var why = reason.value.trim() || DEFAULT_REASONS.refund;
    confirmStep({
      title: "Refund " + money(value, order.currency) + " on order #" + order.number + "?",
      rows: [
        ["Order", "#" + order.number + " · " + words(order.status) + " · " + money(order.total, order.currency)],
        ["Amount", money(value, order.currency) + " of " + money(offer.refundable, order.currency) + " left to refund"],
        ["Goes to", context.goesTo],
        ["Reason", why],
      ],
      note: "The shop starts the refund at once. The customer is told in the chat, with when the money arrives.",
      confirmLabel: "Refund " + money(value, order.currency),
    }).then(function (confirmed) {
      if (confirmed) {
        send(context, button, row, "/orders/" + encodeURIComponent(order.number) + "/refund", { amount: value, reason: why }, [amount, reason]);
      }
    });
  });
  return part;
}

function voucherPart(context) {
  var order = context.order;
  var limits = context.limits;
  var offer = context.offers.voucher || {};
  if (!offer.allowed) {
    return unavailable("Goodwill voucher", offer.why, "voucher-unavailable");
  }
  var part = el("div", { class: "action-part" });
  var row = el("div", { class: "action-row" });
  var amount = amountInput("voucher-amount", "Voucher amount", offer.max);
  var reason = reasonInput("voucher-reason", "Voucher reason", "Reason (optional)");
  var button = el("button", { class: "btn", type: "button", "data-testid": "voucher" }, "Give voucher…");
  append(row, reason, amount, button);
  append(
    part,
    el("p", { class: "action-label", "data-testid": "voucher-limit" }, "Goodwill voucher" + limitText(limits.voucher, limits.voucher_left, limits.role, order.currency)),
    row
  );
  button.addEventListener("click", function () {
    if (!validAmount(amount, row, offer.max, order.currency)) {
      return;
    }
    var value = amount.value.trim();
    var why = reason.value.trim() || DEFAULT_REASONS.voucher;
    confirmStep({
      title: "Give a " + money(value, order.currency) + " voucher?",
      rows: [
        ["To", (order.customer_name || "the customer") + " (" + order.customer_id + ")"],
        ["Amount", money(value, order.currency) + ", a code for their next order"],
        ["Reason", why],
      ],
      note: "No money goes back to the card: the customer gets a code in the chat to use on their next order.",
      confirmLabel: "Give the voucher",
    }).then(function (confirmed) {
      if (confirmed) {
        send(context, button, row, "/voucher", { amount: value, currency: order.currency, reason: why }, [amount, reason]);
      }
    });
  });
  return part;
}

/** An action the order or the agent's limits do not allow, and why (in place of its form). */
function unavailable(what, why, testid) {
  var line = el("p", { class: "action-unavailable", "data-testid": testid });
  append(line, el("strong", null, what + ": "), "not offered. " + (why || ""));
  return line;
}

/** " · up to €100.00 for agents", or what is left of it counting what was already given. */
function limitText(limit, left, role, currency) {
  if (!limit) {
    return "";
  }
  var whom = role ? " for " + role + "s" : "";
  if (left === undefined || left === null || left === limit) {
    return " · your limit " + money(limit, currency) + whom;
  }
  return " · " + money(left, currency) + " left of your " + money(limit, currency) + " limit" + whom;
}

function reasonInput(testid, label, placeholder) {
  return el("input", { class: "input", type: "text", maxlength: 500, placeholder: placeholder, "aria-label": label, "data-testid": testid });
}

function amountInput(testid, label, max) {
  return el("input", {
    class: "input input--amount",
    type: "number",
    inputmode: "decimal",
    min: "0.01",
    step: "0.01",
    max: max || null,
    placeholder: "0.00",
    "aria-label": label + (max ? " (at most " + max + ")" : ""),
    "data-testid": testid,
  });
}

function validAmount(input, anchor, max, currency) {
  var value = Number(input.value);
  if (!input.value.trim() || isNaN(value) || value <= 0) {
    showActionError(anchor, "Enter an amount, like 12.50.");
    input.focus();
    return false;
  }
  if (max && value > Number(max)) {
    showActionError(anchor, "At most " + money(max, currency) + " here.");
    input.focus();
    return false;
  }
  return true;
}

function send(context, button, anchor, tail, body, inputs) {
  runAction(button, anchor, function () {
    return api("POST", conversationPath(context.data.conversation.id, tail), body);
  }).then(function (result) {
    if (!result) {
      return;
    }
    inputs.forEach(function (input) {
      input.value = "";
    });
    showSuccess(context.box.parentNode ? context.box.parentNode : context.box, "Done: " + (result.summary || "the order system accepted it") + ". The customer has been told in the chat.");
    context.done();
  });
}

function words(value) {
  return String(value || "").replace(/_/g, " ");
}
