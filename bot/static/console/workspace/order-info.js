/* The order card's facts: the linked order as the shop has it, and what agents have done to it. */

import { $, append, badge, clear, el, facts, safeLink } from "../dom.js";
import { formatDate, formatTime, money } from "../format.js";

export function renderOrderInfo(data) {
  var info = clear($("order-info"));
  var order = data.order;
  info.appendChild(el("h3", { class: "card__title" }, order ? "Order #" + order.number : "Order"));
  if (data.order_error) {
    info.appendChild(el("p", { class: "action-error action-error--static" }, "The order system did not answer: " + data.order_error));
  }
  if (!order) {
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
  info.appendChild(el("p", { class: "verified-note", "data-testid": "verified" }, "Verified customer " + data.verification.customer_id));

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
}

/** Whether the person in this conversation has proved they own the order shown (the hub hides its owner's details otherwise). */
export function isVerified(data) {
  return !!(data.order && data.verification && data.verification.order_verified);
}

function notVerifiedBanner(data) {
  var banner = el("div", { class: "not-verified", role: "alert", "data-testid": "not-verified" });
  append(
    banner,
    el("strong", null, "Not verified — this person has not proved they own this order."),
    el(
      "p",
      null,
      data.verification && data.verification.verified
        ? "The customer verified in this conversation is someone else. The owner's name, email, address and items are hidden, and you cannot act on this order."
        : "They may only have typed the order number. The owner's name, email, address and items are hidden, and cancel, refund and vouchers are off until the customer confirms the order's email address with the assistant."
    )
  );
  return banner;
}

function itemsTable(order) {
  var table = el("table", { class: "table" });
  var head = el("tr");
  append(head, el("th", null, "Item"), el("th", { class: "num" }, "Qty"), el("th", { class: "num" }, "Price"));
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
  append(total, el("th", { colspan: 2 }, "Total"), el("th", { class: "num" }, money(order.total, order.currency)));
  foot.appendChild(total);
  table.appendChild(foot);
  return table;
}

export function renderOrderLog(data) {
  var log = clear($("order-log"));
  var actions = Array.isArray(data.order_actions) ? data.order_actions : [];
  if (!actions.length) {
    return;
  }
  log.appendChild(el("h4", { class: "card__subtitle" }, "Done by agents"));
  var list = el("ul", { class: "log" });
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
