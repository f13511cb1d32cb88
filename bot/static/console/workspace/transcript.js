/* The open conversation's messages, in id order, each added once (reloads and live events overlap). */

import { $, append, el, linkified } from "../dom.js";
import { formatTime } from "../format.js";

var SENDER_LABELS = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "System" };

var messageIds = new Set();

/** A new transcript (another conversation, or the same one drawn afresh). */
export function resetTranscript() {
  messageIds = new Set();
}

export function addTranscriptMessage(message) {
  var transcript = $("transcript");
  if (!transcript || !message || messageIds.has(message.id)) {
    return;
  }
  messageIds.add(message.id);
  var node = transcriptMessage(message);
  // Keep id order even if a live event overtakes a reload.
  var after = Array.prototype.find.call(transcript.children, function (other) {
    return Number(other.getAttribute("data-id")) > message.id;
  });
  transcript.insertBefore(node, after || null);
}

function transcriptMessage(message) {
  var sender = SENDER_LABELS[message.sender] ? message.sender : "system";
  var payload = message.payload || {};
  var node = el("article", {
    class: "tmsg tmsg--" + sender,
    "data-testid": "transcript-message",
    "data-sender": sender,
    "data-id": message.id,
  });
  var name = sender === "agent" && typeof payload.agent_name === "string" ? payload.agent_name : SENDER_LABELS[sender];
  var head = el("div", { class: "tmsg__head" });
  append(head, el("span", { class: "tmsg__name" }, name), el("time", { class: "tmsg__time", datetime: message.at }, formatTime(message.at)));
  node.appendChild(head);
  node.appendChild(linkified("div", { class: "tmsg__body" }, message.text));
  if (Array.isArray(payload.buttons) && payload.buttons.length) {
    var chips = el("div", { class: "tmsg__buttons", "aria-label": "Buttons offered" });
    payload.buttons.forEach(function (button) {
      if (button && (button.title || button.payload)) {
        chips.appendChild(el("span", { class: "chip", title: String(button.payload || "") }, button.title || button.payload));
      }
    });
    node.appendChild(chips);
  }
  return node;
}

export function isNearBottom(node) {
  return !node || node.scrollHeight - node.scrollTop - node.clientHeight < 80;
}

export function scrollToBottom() {
  var transcript = $("transcript");
  if (transcript) {
    transcript.scrollTop = transcript.scrollHeight;
  }
}
