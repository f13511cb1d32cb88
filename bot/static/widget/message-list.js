/*
 * The conversation as the customer reads it: messages in id order, each shown once whether it came in the
 * welcome's history, as a broadcast or both; the customer's own shown at once as "sending" until the hub has
 * stored it; an agent's name above a run of their messages.
 */

import { el, linkified } from "../console/dom.js";
import { formatTime } from "../console/format.js";
import { noteAgentName } from "./conversation-state.js";
import { dropFromOutbox } from "./outbox.js";
import { ui } from "./panel.js";
import { buildRating } from "./rating.js";

var SENDERS = ["customer", "bot", "agent", "system"];
var DELIVERY = { sending: "Sending…", sent: "Sent", failed: "Not sent" };

var byId = new Map(); // message id → element
var byClientId = new Map(); // client_id → element, for the customer's own messages
var lastId = 0;

/** The newest message id shown: a reconnecting widget asks for what came after it. */
export function lastMessageId() {
  return lastId;
}

/** Another conversation: its messages replace these. */
export function resetMessages() {
  ui.messages.querySelectorAll(".fl-msg").forEach(function (node) {
    node.remove();
  });
  byId.clear();
  byClientId.clear();
  lastId = 0;
}

/** Show a message from the hub once (a message of ours shown while sending just gets its id). */
export function renderServerMessage(message) {
  if (!message || typeof message.id !== "number") {
    return;
  }
  lastId = Math.max(lastId, message.id);
  if (message.sender === "agent" && message.payload && typeof message.payload.agent_name === "string") {
    noteAgentName(message.payload.agent_name);
  }
  if (byId.has(message.id)) {
    return;
  }
  var own = message.client_id ? byClientId.get(message.client_id) : null;
  if (own) {
    dropFromOutbox(message.client_id);
    assignId(own, message.id);
    return;
  }
  var node = buildMessage(message.sender, message.text, message.at, message.payload, message.id);
  if (message.client_id) {
    byClientId.set(message.client_id, node);
  }
  insertById(node, message.id);
  byId.set(message.id, node);
  if (message.sender === "customer") {
    setDelivery(node, "sent");
  }
  refreshGrouping();
}

/** The customer's own message, shown at once as "sending" until the hub acknowledges it. */
export function renderPending(item) {
  if (byClientId.has(item.client_id)) {
    return;
  }
  var node = buildMessage("customer", item.text, item.at, null, null);
  node.dataset.clientId = item.client_id;
  byClientId.set(item.client_id, node);
  ui.messages.appendChild(node);
  setDelivery(node, "sending");
  refreshGrouping();
}

/** Has the hub stored this message of the customer's (it has an id)? */
export function isStored(clientId) {
  var node = byClientId.get(clientId);
  return Boolean(node && node.dataset.id);
}

/** The hub stored the customer's message (`label` says more than "Sent", when there is more to say). */
export function markStored(clientId, id, label) {
  var node = byClientId.get(clientId);
  if (!node) {
    return;
  }
  assignId(node, id);
  setDelivery(node, "sent", label);
}

/** The hub refused the customer's message for good (too long, empty…). */
export function markFailed(clientId, reason) {
  var node = byClientId.get(clientId);
  if (node && !node.dataset.id) {
    setDelivery(node, "failed", "Not sent: " + reason);
  }
}

/** Keep the list in id order; messages still being sent stay at the end. */
function insertById(node, id) {
  var children = ui.messages.querySelectorAll(".fl-msg");
  for (var i = 0; i < children.length; i += 1) {
    var other = children[i];
    var otherId = other.dataset.id ? Number(other.dataset.id) : Infinity;
    if (otherId > id) {
      ui.messages.insertBefore(node, other);
      return;
    }
  }
  ui.messages.appendChild(node);
}

function assignId(node, id) {
  if (node.dataset.id) {
    return;
  }
  node.dataset.id = String(id);
  byId.set(id, node);
  lastId = Math.max(lastId, id);
  setDelivery(node, "sent");
}

function buildMessage(sender, text, at, payload, id) {
  var safeSender = SENDERS.indexOf(sender) >= 0 ? sender : "system";
  var node = el("div", {
    class: "fl-msg fl-msg--" + safeSender,
    "data-testid": "fl-message",
    "data-sender": safeSender,
    "data-id": typeof id === "number" ? id : null,
  });
  if (safeSender === "agent" && payload && typeof payload.agent_name === "string") {
    node.dataset.agentName = payload.agent_name;
    node.appendChild(el("div", { class: "fl-msg-name" }, payload.agent_name));
  }
  node.appendChild(linkified("div", { class: "fl-bubble" }, text));
  appendAttachments(node, payload);
  node.appendChild(el("div", { class: "fl-meta" }, formatTime(at || new Date().toISOString())));

  var rating = payload && payload.rating_request === true ? buildRating(node, id, payload) : null;
  if (rating) {
    node.appendChild(rating);
  } else if (payload && !payload.rating_request && Array.isArray(payload.buttons) && payload.buttons.length) {
    node.flButtons = payload.buttons; // offered while this is the latest message (quick-replies.js)
  }
  return node;
}

/** Images and attachments from the bot: shown as links (the CSP only allows images from this site). */
function appendAttachments(node, payload) {
  if (!payload) {
    return;
  }
  ["image", "attachment"].forEach(function (key) {
    var value = payload[key];
    var url = typeof value === "string" ? value : value && typeof value.url === "string" ? value.url : null;
    if (url && /^https?:\/\//i.test(url)) {
      var link = el("a", { class: "fl-attachment", href: url, target: "_blank", rel: "noopener noreferrer" });
      link.textContent = key === "image" ? "View image" : "Open attachment";
      node.appendChild(link);
    }
  });
}

/** Show an agent's name once above a run of their messages. */
function refreshGrouping() {
  var previous = null;
  ui.messages.querySelectorAll(".fl-msg").forEach(function (node) {
    var continued =
      previous !== null &&
      previous.dataset.sender === node.dataset.sender &&
      (previous.dataset.agentName || "") === (node.dataset.agentName || "");
    node.classList.toggle("fl-continued", continued);
    previous = node;
  });
}

function setDelivery(node, status, label) {
  node.dataset.status = status;
  var meta = node.querySelector(".fl-meta");
  if (!meta) {
    return;
  }
  var time = meta.dataset.time !== undefined ? meta.dataset.time : meta.textContent;
  meta.dataset.time = time;
  var word = label || DELIVERY[status] || "";
  meta.textContent = time ? time + " · " + word : word;
}
