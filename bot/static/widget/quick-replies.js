/*
 * Buttons the customer can tap instead of typing: the greeting's, before anything has been said, and those a
 * message brings (the bot's suggestions, the hub's "Leave a message" / "Carry on with the bot"). They belong to
 * the latest message only: once the conversation moves on they go. A tap sends a `button` frame: the hub stores
 * the title as the customer's message and gives the bot the payload (or answers a hub command itself).
 */

import { el } from "../console/dom.js";
import { isConnecting, sendFrame, wasEverWelcomed } from "./connection.js";
import { newClientId } from "./outbox.js";
import { showError, ui } from "./panel.js";

var GREETING = "Hi! I'm the shop's assistant. I can track, cancel or change an order and sort out refunds. " +
  "What can I do for you?";
/** The payloads are intents the bot knows (domain.yml): a tap means what typing the title would. */
var GREETING_BUTTONS = [
  { title: "Where is my order?", payload: "/track_order" },
  { title: "Return or refund", payload: "/get_refund" },
  { title: "Cancel an order", payload: "/cancel_order" },
  { title: "Talk to a person", payload: "/contact_human_agent" },
];

var greeting = null;
var waiting = null; // a tap made while the first connection was still being opened, sent on the welcome

/** The assistant's greeting at the top of the log: shown on every open, never stored (nobody has said anything). */
export function addGreeting() {
  greeting = el("div", { class: "fl-greeting", "data-testid": "fl-greeting" });
  greeting.appendChild(el("div", { class: "fl-bubble" }, GREETING));
  greeting.flButtons = GREETING_BUTTONS;
  ui.messages.appendChild(greeting);
}

/** Offer the latest message's buttons (the greeting's while the conversation is empty), and only those. */
export function refreshQuickReplies() {
  var nodes = ui.messages.querySelectorAll(".fl-msg");
  var latest = nodes.length ? nodes[nodes.length - 1] : greeting;
  ui.messages.querySelectorAll(".fl-quick-replies").forEach(function (group) {
    if (group.parentNode !== latest) {
      group.remove();
    }
  });
  if (latest && latest.flButtons && !latest.querySelector(".fl-quick-replies")) {
    latest.appendChild(buildQuickReplies(latest.flButtons));
  }
}

function buildQuickReplies(buttons) {
  var group = el("div", { class: "fl-quick-replies", role: "group", "aria-label": "Suggested replies" });
  buttons.forEach(function (button) {
    if (!button || typeof button.payload !== "string") {
      return;
    }
    var title = typeof button.title === "string" && button.title ? button.title : button.payload;
    var node = el("button", { class: "fl-quick-reply", type: "button", "data-testid": "fl-quick-reply" }, title);
    node.addEventListener("click", function () {
      choose(group, node, title, button.payload);
    });
    group.appendChild(node);
  });
  return group;
}

function choose(group, node, title, payload) {
  var frame = { type: "button", client_id: newClientId(), title: title, payload: payload };
  if (!sendFrame(frame)) {
    // Only the first connection's taps wait for it: one replayed after a dropped connection could be stale.
    if (!isConnecting() || wasEverWelcomed()) {
      showError("You're offline right now. Try again in a moment.");
      return;
    }
    waiting = frame;
  }
  group.querySelectorAll("button").forEach(function (other) {
    other.disabled = true;
  });
  node.classList.add("is-chosen");
  node.setAttribute("aria-pressed", "true");
}

/** The hub has welcomed us: send the tap that was waiting for it. */
export function sendWaitingTap() {
  if (waiting && sendFrame(waiting)) {
    waiting = null;
  }
}
