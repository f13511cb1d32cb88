/* The reply box under a conversation of mine: canned replies, Enter to send, one client_id per reply. */

import { runAction, showActionError } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { append, clear, el } from "../dom.js";
import { maxReplyChars } from "../session.js";
import { currentId } from "./selection.js";
import { addTranscriptMessage, scrollToBottom } from "./transcript.js";

var canned = [];
var replyClientId = null; // the same client_id for retries of one reply

/** Another conversation opened: a reply under way is not retried there. */
export function resetReply() {
  replyClientId = null;
}

export function buildComposer() {
  var form = el("form", { class: "composer", novalidate: true });
  var tools = el("div", { class: "composer__tools" });
  var cannedSelect = el("select", { class: "select", "data-testid": "canned", "aria-label": "Canned replies" });
  fillCanned(cannedSelect);
  tools.appendChild(cannedSelect);
  tools.appendChild(el("span", { class: "muted small" }, "Enter sends · Shift+Enter for a new line"));

  var row = el("div", { class: "composer__row" });
  var input = el("textarea", {
    class: "textarea",
    id: "reply-input",
    rows: 3,
    maxlength: maxReplyChars(),
    placeholder: "Write to the customer…",
    "aria-label": "Reply to the customer",
    "data-testid": "reply-input",
  });
  var send = el("button", { class: "btn btn--primary", type: "submit", "data-testid": "reply-send" }, "Send");
  append(row, input, send);
  append(form, tools, row);

  cannedSelect.addEventListener("change", function () {
    var chosen = canned.find(function (reply) {
      return String(reply.id) === cannedSelect.value;
    });
    if (chosen) {
      // Fill the box (after what is already written) so the agent can adjust it before sending.
      input.value = input.value.trim() ? input.value.replace(/\s+$/, "") + "\n" + chosen.text : chosen.text;
      input.focus();
    }
    cannedSelect.value = "";
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendReply(input, send, row);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    sendReply(input, send, row);
  });
  return form;
}

function fillCanned(select) {
  clear(select);
  select.appendChild(el("option", { value: "" }, canned.length ? "Canned replies…" : "No canned replies"));
  canned.forEach(function (reply) {
    select.appendChild(el("option", { value: reply.id, title: reply.text }, reply.title));
  });
}

function sendReply(input, button, anchor) {
  var text = input.value.trim();
  if (!text) {
    showActionError(anchor, "Write a reply first.");
    input.focus();
    return;
  }
  var id = currentId();
  replyClientId = replyClientId || uuid();
  runAction(button, anchor, function () {
    return api("POST", conversationPath(id, "/messages"), { text: text, client_id: replyClientId });
  }).then(function (result) {
    if (!result) {
      return;
    }
    replyClientId = null;
    if (input.value.trim() === text) {
      input.value = "";
    }
    if (currentId() === id && result.message) {
      addTranscriptMessage(result.message);
      scrollToBottom();
    }
    input.focus();
  });
}

export function loadCanned() {
  return api("GET", "/api/canned-replies")
    .then(function (data) {
      canned = Array.isArray(data.canned_replies) ? data.canned_replies : [];
      var select = document.querySelector("[data-testid=canned]");
      if (select) {
        fillCanned(select);
      }
    })
    .catch(function () {
      return null;
    });
}

function uuid() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  var bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.prototype.map
    .call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    })
    .join("");
}
