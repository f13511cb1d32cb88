/*
 * Frontline chat widget: a launcher bubble and a chat panel that talk to the hub over /ws/customer.
 *
 * Loaded by /static/widget.js, the one tag a shop embeds; it builds its own DOM and loads widget.css from
 * next to that script. The page's CSP forbids inline scripts and styles, so all styling lives in widget.css
 * and every piece of customer, bot or agent text is put in the page as text, never as HTML.
 *
 * Protocol (bot/channels/web.py, README "Customer WebSocket"): hello → welcome (token, history after last_id),
 * message → ack, message/state/typing broadcasts, button, human, rating (csat 1–5 or nps 0–10) → rated, error.
 */

import {
  configureConnection,
  connect,
  isConnecting,
  markWelcomed,
  reconnectNow,
  restart,
  sendFrame,
  wasEverWelcomed,
} from "./connection.js";
import { conversationState, forgetAgent, setConversationState } from "./conversation-state.js";
import {
  isStored,
  lastMessageId,
  markFailed,
  markStored,
  renderPending,
  renderServerMessage,
  resetMessages,
} from "./message-list.js";
import { addToOutbox, dropFromOutbox, newClientId, unsent } from "./outbox.js";
import {
  buildPanel,
  clearInput,
  closePanel,
  countUnread,
  hideTyping,
  isNearBottom,
  isOpen,
  maxChars,
  openPanel,
  scrollToBottom,
  setMaxChars,
  setNotice,
  showError,
  showTyping,
  ui,
} from "./panel.js";
import { addGreeting, refreshQuickReplies, sendWaitingTap } from "./quick-replies.js";
import { ratingAnswered, ratingRefused, ratingsInterrupted, refreshRatings } from "./rating.js";
import { KEYS, storageGet, storageSet } from "./storage.js";

/** How a message sent while waiting for a person is acknowledged, once the hub has stored it. */
var QUEUED_ACK = "Sent · the team will see this";

var token = storageGet(KEYS.token);
var conversationId = null;
var wantsHuman = false; // "Talk to a person" pressed while still connecting

function start() {
  loadStylesheet();
  buildPanel({ opened: connect, send: sendFromInput, human: requestHuman, leaveQueue: leaveQueue });
  addGreeting();
  configureConnection(socketUrl(), {
    hello: function () {
      return { type: "hello", token: token || null, last_id: lastMessageId() };
    },
    frame: handleFrame,
    closed: function () {
      hideTyping();
      ratingsInterrupted();
    },
    retrying: function (afterDrop) {
      if (afterDrop) {
        setNotice("Reconnecting…");
      }
    },
  });
  // Unsent messages from an earlier page view show at once; they are sent again after the welcome.
  unsent().forEach(renderPending);
  refreshLog();
  // A returning customer reconnects at once, so replies that came while away show up (and count as unread).
  if (token || unsent().length) {
    connect();
  }
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      reconnectNow();
    }
  });
}

function loadStylesheet() {
  if (document.querySelector("link[data-frontline-css]")) {
    return;
  }
  var link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("../widget.css", import.meta.url).href;
  link.setAttribute("data-frontline-css", "");
  document.head.appendChild(link);
}

function socketUrl() {
  var here = new URL(import.meta.url);
  return (here.protocol === "https:" ? "wss:" : "ws:") + "//" + here.host + "/ws/customer";
}

/** The latest message's buttons, and only the newest rating request open. */
function refreshLog() {
  refreshQuickReplies();
  refreshRatings();
}

/* ------------------------------------------------------------ frames */

function handleFrame(frame) {
  switch (frame.type) {
    case "welcome":
      onWelcome(frame);
      break;
    case "message":
      if (frame.message) {
        onMessage(frame.message);
      }
      break;
    case "ack":
      onAck(frame);
      break;
    case "typing":
      if (frame.from === "bot") {
        showTyping();
      }
      break;
    case "state":
      setConversationState(frame.state, frame.agent, frame.queue);
      break;
    case "rated":
      ratingAnswered(frame.accepted);
      break;
    case "error":
      onError(frame);
      break;
    default:
      break; // pong and anything newer: nothing to show
  }
}

function onWelcome(frame) {
  if (typeof frame.token === "string") {
    token = frame.token;
    storageSet(KEYS.token, frame.token);
  }
  if (conversationId && frame.conversation_id !== conversationId && lastMessageId() > 0) {
    // A different conversation (the stored token was replaced): start over from its first message.
    resetMessages();
    forgetAgent();
    conversationId = frame.conversation_id;
    restart();
    return;
  }
  markWelcomed();
  setNotice("");
  conversationId = frame.conversation_id;
  var limits = frame.limits || {};
  if (typeof limits.max_message_chars === "number" && limits.max_message_chars > 0) {
    setMaxChars(limits.max_message_chars);
  }
  (frame.history || []).forEach(renderServerMessage);
  // The welcome carries no agent or queue details: the state frame that follows it does.
  setConversationState(frame.state, null, null);
  refreshLog();
  scrollToBottom(true);
  flushOutbox();
  sendWaitingTap();
  if (wantsHuman) {
    wantsHuman = false;
    requestHuman();
  }
}

function onMessage(message) {
  // Decided before the message is added: a tall message would otherwise look like the reader scrolled up.
  var stick = isNearBottom();
  renderServerMessage(message);
  if (message.sender === "bot" || message.sender === "system") {
    hideTyping();
  }
  if (!isOpen() && message.sender !== "customer") {
    countUnread();
  }
  refreshLog();
  scrollToBottom(stick || message.sender === "customer");
}

function onAck(frame) {
  if (!frame.client_id) {
    return;
  }
  dropFromOutbox(frame.client_id);
  if (typeof frame.id === "number") {
    markStored(frame.client_id, frame.id, conversationState() === "queued" ? QUEUED_ACK : null);
  }
}

function onError(frame) {
  var message = typeof frame.message === "string" ? frame.message : "Something went wrong.";
  if (frame.client_id) {
    // The hub refused this message for good (too long, empty...): it is not sent again.
    dropFromOutbox(frame.client_id);
    markFailed(frame.client_id, message);
  }
  if (frame.code === "bad_rating") {
    ratingRefused();
  }
  showError(message);
}

/* ----------------------------------------------------------- sending */

function sendFromInput() {
  var text = ui.input.value.trim();
  if (!text) {
    ui.input.focus();
    return;
  }
  if (text.length > maxChars()) {
    showError("A message can be at most " + maxChars() + " characters.");
    return;
  }
  var item = addToOutbox(text);
  renderPending(item);
  refreshLog();
  scrollToBottom(true);
  clearInput();
  sendFrame({ type: "message", client_id: item.client_id, text: item.text });
  if (!isConnecting()) {
    connect();
  }
}

/** After (re)connecting: send again what was not acknowledged, with the same client_id (stored once). */
function flushOutbox() {
  unsent().forEach(function (item) {
    if (isStored(item.client_id)) {
      dropFromOutbox(item.client_id); // it came in the history: stored before the connection dropped
      return;
    }
    renderPending(item);
    sendFrame({ type: "message", client_id: item.client_id, text: item.text });
  });
}

/** "Talk to a person". Offered only while the bot has the conversation; should it come later (a tap in flight),
 * the hub just says where the customer stands. */
function requestHuman() {
  if (!sendFrame({ type: "human", client_id: newClientId() })) {
    wantsHuman = true; // asked as soon as the hub has welcomed us
    setNotice(wasEverWelcomed() ? "Reconnecting…" : "Connecting…");
    connect();
  }
}

/** "Leave the queue": back to the bot (the hub's /back_to_bot command). */
function leaveQueue() {
  var frame = { type: "button", client_id: newClientId(), title: "Leave the queue", payload: "/back_to_bot" };
  if (!sendFrame(frame)) {
    showError("You're offline right now. Try again in a moment.");
  }
}

if (!window.FrontlineWidget) {
  window.FrontlineWidget = { open: openPanel, close: closePanel };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}
