/*
 * The order card's facts: who the person is (verified, and how, or not), the linked order as the shop has it, its
 * refunds and the customer's vouchers, and what agents have done in this conversation. Until the person is
 * verified the hub sends only what anyone with the order number may know, and this card says so first.
 */

import { $, append, badge, clear, el, facts, safeLink } from "../dom.js";
import { formatDate, formatTime, money } from "../format.js";

var REFUND_STATUS = { requested: "Requested", approved: "Approved", paid: "Paid", rejected: "Declined" };

export function renderOrderInfo(data) {
  var info = clear($("order-info"));
  var order = data.order;
  info.appendChild(el("h3", { class: "card__title" }, order ? "Order #" + order.number : "Order"));
  if (data.order_error) {
    info.appendChild(el("p", { class: "action-error action-error--static" }, "The order system did not answer: " + data.order_error));
  }
  if (!order) {
    if (data.verification && data.verification.verified) {
      info.appendChild(verifiedNote(data.verification));
    }
    if (!data.order_error) {
      info.appendChild(el("p", { class: "muted" }, "No order is linked to this conversation."));
    }
    return;
  }
  info.appendChild(append(el("div", { class: "badges" }), badge("order", order.status, String(order.status).replace(/_/g, " "))));
  if (!isVerified(data)) {
    info.appendChild(notVerifiedBanner(data));
    info.appendChild(
      facts([
        ["Expected", order.expected_delivery ? formatDate(order.expected_delivery) : ""],
        ["Delivered", order.delivered_at ? formatDate(order.delivered_at) : ""],
        ["Delay", order.delay_reason || ""],
      ])
    );
    return;
  }
  info.appendChild(verifiedNote(data.verification));

  var tracking = null;
  if (order.tracking_number || order.carrier) {
    tracking = el("span");
    append(tracking, [order.carrier, order.tracking_number].filter(Boolean).join(" · "));
    if (order.tracking_url) {
      append(tracking, " ", safeLink(order.tracking_url, "Track"));
    }
  }
  info.appendChild(
    facts([
      ["Customer", order.customer_name],
      ["Email", order.customer_email],
      ["Customer id", order.customer_id],
      ["Placed", formatDate(order.placed_at)],
      ["Address", order.shipping_address],
      ["Shipping", tracking],
      ["Expected", order.expected_delivery ? formatDate(order.expected_delivery) : ""],
      ["Originally", order.original_expected_delivery ? formatDate(order.original_expected_delivery) : ""],
      ["Delay", order.delay_reason || ""],
      ["Delivered", order.delivered_at ? formatDate(order.delivered_at) : ""],
      ["Payment", order.payment_method],
      ["Cancellation fee", Number(order.cancellation_fee) ? money(order.cancellation_fee, order.currency) : ""],
    ])
  );
  info.appendChild(itemsTable(order));
  info.appendChild(refundsPart(data.refunds || [], order.currency));
  info.appendChild(vouchersPart(data.vouchers || []));
}

/** Whether the person in this conversation has proved they own the order shown (the hub hides its owner's details otherwise). */
export function isVerified(data) {
  return !!(data.order && data.verification && data.verification.order_verified);
}

function verifiedNote(verification) {
  var check = verification.checked_by_agent;
  var how = check
    ? "checked by " + check.agent_name + ", " + formatTime(check.at) + ": " + check.how
    : verification.how || "verified";
  return el("p", { class: "verified-note", "data-testid": "verified" }, "Verified ✓ (" + how + ")");
}

function notVerifiedBanner(data) {
  var someoneElse = data.verification && data.verification.verified;
  var banner = el("div", { class: "not-verified", role: "note", "aria-label": "Not verified", "data-testid": "not-verified" });
  append(
    banner,
    el("strong", null, someoneElse ? "Not verified for this order: someone else's" : "Not verified: order number only"),
    el(
      "p",
      null,
      someoneElse
        ? "The customer verified in this conversation does not own this order. Its owner's name, email, address and items are hidden, and no money can move on it."
        : "This person typed the order number but has not proved they own the order. The owner's name, email, address and items are hidden, and no money can move, until they confirm the order's email with the assistant or you check who they are another way."
    )
  );
  return banner;
}

function itemsTable(order) {
  var table = el("table", { class: "table" });
  table.appendChild(el("caption", { class: "visually-hidden" }, "Items of order #" + order.number));
  var head = el("tr");
  append(head, el("th", { scope: "col" }, "Item"), el("th", { class: "num", scope: "col" }, "Qty"), el("th", { class: "num", scope: "col" }, "Price"));
  append(table, append(el("thead"), head));
  var body = el("tbody");
  (order.items || []).forEach(function (item) {
    var row = el("tr");
    append(
      row,
      el("td", null, item.name + (item.sku ? " (" + item.sku + ")" : "")),
      el("td", { class: "num" }, String(item.quantity)),
      el("td", { class: "num" }, money(item.unit_price, order.currency))
    );
    body.appendChild(row);
  });
  table.appendChild(body);
  var foot = el("tfoot");
  var total = el("tr");
  append(total, el("th", { colspan: 2, scope: "row" }, "Total"), el("th", { class: "num" }, money(order.total, order.currency)));
  foot.appendChild(total);
  table.appendChild(foot);
  return table;
}

/** The order's refunds as the shop has them, newest first: so nobody starts a second one by mistake. */
function refundsPart(refunds, currency) {
  var part = el("div", { "data-testid": "order-refunds" });
  part.appendChild(el("h4", { class: "card__subtitle" }, "Refunds"));
  if (!refunds.length) {
    part.appendChild(el("p", { class: "muted small" }, "No refunds on this order."));
    return part;
  }
  var list = el("ul", { class: "money-list" });
  refunds.forEach(function (refund) {
    var when =
      refund.status === "paid" && refund.paid_at
        ? "paid " + formatDate(refund.paid_at)
        : refund.status === "rejected"
          ? "requested " + formatDate(refund.requested_at)
          : "requested " + formatDate(refund.requested_at) + (refund.expected_by ? ", due by " + formatDate(refund.expected_by) : "");
    var item = el("li", { class: "money-list__item", "data-testid": "order-refund" });
    append(
      item,
      el("strong", null, money(refund.amount, currency)),
      " ",
      badge("refund", refund.status, REFUND_STATUS[refund.status] || refund.status),
      el("span", { class: "muted small money-list__when" }, refund.refund_id + " · " + when),
      refund.reason ? el("span", { class: "muted small money-list__why" }, refund.reason) : null
    );
    list.appendChild(item);
  });
  part.appendChild(list);
  return part;
}

/** Goodwill vouchers this customer was given, in any conversation. */
function vouchersPart(vouchers) {
  var part = el("div", { "data-testid": "order-vouchers" });
  part.appendChild(el("h4", { class: "card__subtitle" }, "Vouchers given to this customer"));
  if (!vouchers.length) {
    part.appendChild(el("p", { class: "muted small" }, "None yet."));
    return part;
  }
  var list = el("ul", { class: "money-list" });
  vouchers.forEach(function (voucher) {
    var item = el("li", { class: "money-list__item", "data-testid": "order-voucher" });
    append(
      item,
      el("strong", null, money(voucher.amount, voucher.currency)),
      el("span", { class: "muted small money-list__when" }, voucher.code + " · " + formatDate(voucher.issued_at)),
      voucher.reason ? el("span", { class: "muted small money-list__why" }, voucher.reason) : null
    );
    list.appendChild(item);
  });
  part.appendChild(list);
  return part;
}

export function renderOrderLog(data) {
  var log = clear($("order-log"));
  var actions = Array.isArray(data.order_actions) ? data.order_actions : [];
  if (!actions.length) {
    return;
  }
  log.appendChild(el("h4", { class: "card__subtitle" }, "Done by agents here"));
  var list = el("ul", { class: "log", "data-testid": "order-log" });
  actions.forEach(function (action) {
    var item = el("li");
    append(
      item,
      el("strong", null, action.agent_name || "An agent"),
      " " + (action.result || action.kind),
      action.reason ? el("span", { class: "muted" }, " — " + action.reason) : null,
      el("span", { class: "muted small" }, " · " + formatTime(action.at))
    );
    list.appendChild(item);
  });
  log.appendChild(list);
}
