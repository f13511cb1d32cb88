/*
 * The launcher bubble and the chat panel: header (title, one-line status, the person button, close), the
 * message log, the queue card, the typing line, the error banner and the composer. Opening, closing, the
 * unread count, errors and notices, and following new messages at the bottom.
 */

import { el } from "../console/dom.js";

var TYPING_TIMEOUT_MS = 10000;
var ERROR_VISIBLE_MS = 6000;
var DEFAULT_MAX_CHARS = 4000;
var FULL_SCREEN = "(max-width: 480px), (max-height: 520px)"; // as in widget.css: the panel covers the page

/** The panel's parts, for the modules that fill them. */
export var ui = {};

var open = false;
var unread = 0;
var limit = DEFAULT_MAX_CHARS;
var typingTimer = null;
var errorTimer = null;
var handlers = {};

/**
 * Build the widget into the page. `on.opened()` runs when the panel opens, `on.send(text)` when the customer
 * sends what they typed, `on.human()` for "Talk to a person", `on.leaveQueue()` for "Leave the queue".
 */
export function buildPanel(on) {
  handlers = on;
  var root = el("div", { class: "fl-root", id: "frontline-widget" });

  ui.launcher = el("button", {
    class: "fl-launcher",
    type: "button",
    "data-testid": "fl-launcher",
    "aria-label": "Chat with us",
    "aria-expanded": "false",
    "aria-controls": "fl-panel",
  });
  ui.launcher.appendChild(
    svgIcon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z")
  );
  ui.unread = el("span", { class: "fl-unread", "data-testid": "fl-unread", "aria-hidden": "true", hidden: true });
  ui.launcher.appendChild(ui.unread);

  ui.panel = el("section", {
    class: "fl-panel",
    id: "fl-panel",
    role: "dialog",
    "aria-label": "Chat with Frontline",
    "data-testid": "fl-panel",
    "data-state": "bot",
    hidden: true,
  });
  ui.panel.appendChild(buildHeader());

  ui.notice = el("div", { class: "fl-notice", role: "status", "data-testid": "fl-notice", hidden: true });
  ui.panel.appendChild(ui.notice);

  ui.messages = el("div", {
    class: "fl-messages",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Messages",
    tabindex: "0",
    "data-testid": "fl-messages",
  });
  ui.panel.appendChild(ui.messages);

  ui.queueCard = el("div", {
    class: "fl-queue-card",
    role: "status",
    "aria-label": "Your place in the queue",
    "data-testid": "fl-queue-card",
    hidden: true,
  });
  ui.panel.appendChild(ui.queueCard);

  ui.typing = el("div", { class: "fl-typing", "data-testid": "fl-typing", role: "status", hidden: true });
  var dots = el("span", { class: "fl-typing-dots", "aria-hidden": "true" });
  dots.append(el("span"), el("span"), el("span"));
  ui.typing.append(dots, el("span", { class: "fl-typing-label" }, "The assistant is typing…"));
  ui.panel.appendChild(ui.typing);

  ui.error = el("div", { class: "fl-error", role: "alert", "data-testid": "fl-error", hidden: true });
  ui.panel.appendChild(ui.error);

  ui.panel.appendChild(buildComposer());

  root.append(ui.panel, ui.launcher);
  document.body.appendChild(root);

  ui.launcher.addEventListener("click", togglePanel);
  ui.panel.addEventListener("keydown", keepFocusInside);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && open) {
      closePanel();
    }
  });
}

/** While the panel covers the page, Tab goes round its controls rather than to the page hidden behind it. */
function keepFocusInside(event) {
  if (event.key !== "Tab" || !window.matchMedia(FULL_SCREEN).matches) {
    return;
  }
  var focusable = Array.prototype.filter.call(
    ui.panel.querySelectorAll("button, textarea, a[href], [tabindex]"),
    function (node) {
      return !node.disabled && node.tabIndex >= 0 && node.getClientRects().length > 0;
    }
  );
  if (!focusable.length) {
    return;
  }
  var first = focusable[0];
  var last = focusable[focusable.length - 1];
  if (event.shiftKey ? document.activeElement === first : document.activeElement === last) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

function buildHeader() {
  var header = el("div", { class: "fl-header" });
  ui.title = el("h2", { class: "fl-title", id: "fl-title" }, "Frontline help");
  ui.status = el("p", { class: "fl-status", "data-testid": "fl-status" }, "Frontline assistant");

  ui.human = el("button", { class: "fl-person", type: "button", "data-testid": "fl-human" }, "Talk to a person");
  ui.human.addEventListener("click", function () {
    handlers.human();
  });
  ui.leaveQueue = el(
    "button",
    { class: "fl-person", type: "button", "data-testid": "fl-leave-queue", hidden: true },
    "Leave the queue"
  );
  ui.leaveQueue.addEventListener("click", function () {
    handlers.leaveQueue();
  });

  ui.close = el("button", { class: "fl-close", type: "button", "aria-label": "Close chat" });
  ui.close.appendChild(svgIcon("M6 6l12 12M18 6L6 18"));
  ui.close.addEventListener("click", closePanel);

  header.append(ui.title, ui.status, ui.human, ui.leaveQueue, ui.close);
  return header;
}

function buildComposer() {
  var form = el("form", { class: "fl-composer", novalidate: true, "aria-label": "Write to us" });
  ui.input = el("textarea", {
    class: "fl-input",
    rows: 1,
    maxlength: limit,
    placeholder: "Write a message…",
    "aria-label": "Your message",
    "data-testid": "fl-input",
  });
  ui.send = el("button", { class: "fl-send", type: "submit", "data-testid": "fl-send" }, "Send");
  form.append(ui.input, ui.send);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    handlers.send();
  });
  // Enter sends, Shift+Enter makes a new line (and IME composition is left alone).
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      handlers.send();
    }
  });
  ui.input.addEventListener("input", autoGrow);
  return form;
}

function svgIcon(pathData) {
  var ns = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  var path = document.createElementNS(ns, "path");
  path.setAttribute("d", pathData);
  svg.appendChild(path);
  return svg;
}

/** The text box emptied after sending, back to one line, ready for the next message. */
export function clearInput() {
  ui.input.value = "";
  autoGrow();
  ui.input.focus();
}

function autoGrow() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
}

/** The longest message the hub takes (it says in the welcome). */
export function maxChars() {
  return limit;
}

export function setMaxChars(value) {
  limit = value;
  ui.input.setAttribute("maxlength", String(value));
}

/* ---------------------------------------------------------- opening */

export function isOpen() {
  return open;
}

function togglePanel() {
  if (open) {
    closePanel();
  } else {
    openPanel();
  }
}

export function openPanel() {
  open = true;
  ui.panel.hidden = false;
  ui.launcher.setAttribute("aria-expanded", "true");
  document.documentElement.classList.add("fl-open");
  setUnread(0);
  handlers.opened();
  scrollToBottom(true);
  ui.input.focus();
}

export function closePanel() {
  open = false;
  ui.panel.hidden = true;
  ui.launcher.setAttribute("aria-expanded", "false");
  document.documentElement.classList.remove("fl-open");
  ui.launcher.focus();
}

/** One more message came while the panel was closed. */
export function countUnread() {
  setUnread(unread + 1);
}

function setUnread(count) {
  unread = count;
  ui.unread.hidden = count === 0;
  ui.unread.textContent = count > 9 ? "9+" : String(count);
  ui.launcher.setAttribute("aria-label", count ? "Chat with us (" + count + " new)" : "Chat with us");
}

/* ------------------------------------------------- errors and notices */

export function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(function () {
    ui.error.hidden = true;
  }, ERROR_VISIBLE_MS);
}

export function setNotice(text) {
  ui.notice.textContent = text || "";
  ui.notice.hidden = !text;
}

/* ---------------------------------------------------------- scrolling */

export function isNearBottom() {
  var list = ui.messages;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
}

/** Follow new messages, unless the customer has scrolled up to read (then `force` only). */
export function scrollToBottom(force) {
  if (force || isNearBottom()) {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }
}

/* ------------------------------------------------------------- typing */

export function showTyping() {
  var stick = isNearBottom();
  ui.typing.hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  scrollToBottom(stick);
}

export function hideTyping() {
  clearTimeout(typingTimer);
  ui.typing.hidden = true;
}
