/*
 * Frontline chat widget: a launcher bubble and a chat panel that talk to the hub over /ws/customer.
 *
 * Embedded with one tag: <script src="/static/widget.js" defer></script>. The widget builds its own DOM
 * and loads widget.css from next to this script. The page's CSP forbids inline scripts and styles, so all
 * styling lives in widget.css and every piece of customer, bot or agent text is put in the page as text
 * (textContent / createTextNode), never as HTML.
 *
 * Protocol (see bot/web_channel.py): hello → welcome (token, history after last_id), message → ack,
 * message/state/typing broadcasts, button, human, rating (question csat 1–5 or nps 0–10) → rated, error.
 */
(function () {
  "use strict";

  if (window.FrontlineWidget) {
    return; // included twice: one widget is enough
  }

  var KEYS = {
    token: "frontline.token",
    outbox: "frontline.outbox",
    rated: "frontline.rated",
  };
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
  var TYPING_TIMEOUT_MS = 10000;
  var ERROR_VISIBLE_MS = 6000;
  var DEFAULT_MAX_CHARS = 4000;
  var OUTBOX_LIMIT = 50;

  var scriptUrl = currentScriptUrl();

  /* ------------------------------------------------------------------ state */

  var state = {
    ws: null,
    welcomed: false, // hello answered: only then may other frames be sent
    everConnected: false,
    attempt: 0,
    reconnectTimer: null,
    token: storageGet(KEYS.token),
    conversationId: null,
    convState: "bot",
    queue: null,
    agentName: null,
    lastId: 0,
    maxChars: DEFAULT_MAX_CHARS,
    outbox: loadOutbox(), // customer messages not yet acknowledged, resent after a reconnect
    byId: new Map(), // message id → element
    byClientId: new Map(), // client_id → element, for the customer's own messages
    open: false,
    unread: 0,
    typingTimer: null,
    errorTimer: null,
    pendingRatings: [], // rating widgets waiting for the server's "rated", oldest first (answered in order)
    wantsHuman: false, // "Talk to a person" pressed while still connecting
  };

  var ui = {};

  /* -------------------------------------------------------------- helpers */

  function currentScriptUrl() {
    // document.currentScript is set while a classic (also deferred) script runs.
    var script = document.currentScript;
    try {
      return new URL(script && script.src ? script.src : "/static/widget.js", window.location.href);
    } catch (e) {
      return new URL("/static/widget.js", window.location.href);
    }
  }

  // localStorage can throw (private mode, disabled storage): the widget still works without it.
  function storageGet(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function storageSet(key, value) {
    try {
      if (value === null || value === undefined) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, value);
      }
    } catch (e) {
      /* not persisted; fine for this page view */
    }
  }

  function readJson(key, fallback) {
    try {
      var value = JSON.parse(storageGet(key));
      return value === null ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }

  function loadOutbox() {
    var items = readJson(KEYS.outbox, []);
    if (!Array.isArray(items)) {
      return [];
    }
    return items.filter(function (item) {
      return item && typeof item.client_id === "string" && typeof item.text === "string";
    });
  }

  function saveOutbox() {
    state.outbox = state.outbox.slice(-OUTBOX_LIMIT);
    storageSet(KEYS.outbox, state.outbox.length ? JSON.stringify(state.outbox) : null);
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // randomUUID needs a secure context; getRandomValues does not.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    });
    return [
      hex.slice(0, 4).join(""),
      hex.slice(4, 6).join(""),
      hex.slice(6, 8).join(""),
      hex.slice(8, 10).join(""),
      hex.slice(10, 16).join(""),
    ].join("-");
  }

  /**
   * Create an element. `attrs` are set as attributes (data-*, aria-*, class, type...), `text` as textContent.
   * There is deliberately no way to pass HTML.
   */
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) {
        return;
      }
      node.setAttribute(name, value === true ? "" : String(value));
    });
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
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

  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

  /** Put `text` into `node` as text, turning http(s) URLs into links (their text is text too). */
  function appendLinkified(node, text) {
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, ""); // trailing punctuation is not part of the link
      node.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
      node.appendChild(link);
      last = offset + url.length;
      return match;
    });
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function formatTime(iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) {
      return "";
    }
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /* ------------------------------------------------------------------ DOM */

  function loadStylesheet() {
    var href = new URL("widget.css", scriptUrl).href;
    if (document.querySelector('link[data-frontline-css]')) {
      return;
    }
    document.head.appendChild(el("link", { rel: "stylesheet", href: href, "data-frontline-css": true }));
  }

  function build() {
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
    ui.unread = el("span", { class: "fl-unread", "data-testid": "fl-unread", hidden: true });
    ui.launcher.appendChild(ui.unread);

    ui.panel = el("section", {
      class: "fl-panel",
      id: "fl-panel",
      role: "dialog",
      "aria-label": "Chat with Frontline",
      "data-testid": "fl-panel",
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
      "data-testid": "fl-messages",
    });
    ui.messages.appendChild(el("p", { class: "fl-intro" }, "Hi! Ask me about your order, a refund or your account."));
    ui.panel.appendChild(ui.messages);

    ui.typing = el("div", { class: "fl-typing", "data-testid": "fl-typing", hidden: true, "aria-live": "polite" });
    var dots = el("span", { class: "fl-typing-dots", "aria-hidden": "true" });
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    ui.typing.appendChild(dots);
    ui.typing.appendChild(el("span", { class: "fl-typing-label" }, "The assistant is typing…"));
    ui.panel.appendChild(ui.typing);

    ui.error = el("div", { class: "fl-error", role: "alert", "data-testid": "fl-error", hidden: true });
    ui.panel.appendChild(ui.error);

    ui.panel.appendChild(buildComposer());

    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);
    document.body.appendChild(root);

    ui.launcher.addEventListener("click", togglePanel);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.open) {
        closePanel();
      }
    });
  }

  function buildHeader() {
    var header = el("header", { class: "fl-header" });
    var titles = el("div", { class: "fl-titles" });
    titles.appendChild(el("div", { class: "fl-title" }, "Frontline help"));
    ui.status = el("div", { class: "fl-status", "data-testid": "fl-status" }, "Frontline assistant");
    titles.appendChild(ui.status);
    header.appendChild(titles);

    ui.human = el("button", { class: "fl-human", type: "button", "data-testid": "fl-human" }, "Talk to a person");
    ui.human.addEventListener("click", requestHuman);
    header.appendChild(ui.human);

    ui.close = el("button", { class: "fl-close", type: "button", "aria-label": "Close chat" });
    ui.close.appendChild(svgIcon("M6 6l12 12M18 6L6 18"));
    ui.close.addEventListener("click", closePanel);
    header.appendChild(ui.close);
    return header;
  }

  function buildComposer() {
    var form = el("form", { class: "fl-composer", novalidate: true });
    ui.input = el("textarea", {
      class: "fl-input",
      rows: 1,
      maxlength: state.maxChars,
      placeholder: "Write a message…",
      "aria-label": "Your message",
      "data-testid": "fl-input",
    });
    ui.send = el("button", { class: "fl-send", type: "submit", "data-testid": "fl-send" }, "Send");
    form.appendChild(ui.input);
    form.appendChild(ui.send);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendFromInput();
    });
    // Enter sends, Shift+Enter makes a new line (and IME composition is left alone).
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendFromInput();
      }
    });
    ui.input.addEventListener("input", autoGrow);
    return form;
  }

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
  }

  /* ---------------------------------------------------------- panel state */

  function togglePanel() {
    if (state.open) {
      closePanel();
    } else {
      openPanel();
    }
  }

  function openPanel() {
    state.open = true;
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    document.documentElement.classList.add("fl-open");
    setUnread(0);
    connect();
    scrollToBottom(true);
    ui.input.focus();
  }

  function closePanel() {
    state.open = false;
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    document.documentElement.classList.remove("fl-open");
    ui.launcher.focus();
  }

  function setUnread(count) {
    state.unread = count;
    ui.unread.hidden = count === 0;
    ui.unread.textContent = count > 9 ? "9+" : String(count);
    ui.launcher.setAttribute("aria-label", count ? "Chat with us (" + count + " new)" : "Chat with us");
  }

  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
    clearTimeout(state.errorTimer);
    state.errorTimer = setTimeout(function () {
      ui.error.hidden = true;
    }, ERROR_VISIBLE_MS);
  }

  function setNotice(text) {
    ui.notice.textContent = text || "";
    ui.notice.hidden = !text;
  }

  function isNearBottom() {
    var list = ui.messages;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }

  /** Follow new messages, unless the customer has scrolled up to read (then `force` only). */
  function scrollToBottom(force) {
    if (force || isNearBottom()) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  }

  /* ---------------------------------------------------------- connection */

  function socketUrl() {
    var scheme = scriptUrl.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + scriptUrl.host + "/ws/customer";
  }

  function connect() {
    if (state.ws && state.ws.readyState <= 1) {
      return; // connecting or open
    }
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    var ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    state.welcomed = false;
    ws.addEventListener("open", function () {
      sendFrame({ type: "hello", token: state.token || null, last_id: state.lastId }, true);
    });
    ws.addEventListener("message", function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame === "object") {
        handleFrame(frame);
      }
    });
    ws.addEventListener("close", function () {
      if (state.ws !== ws) {
        return;
      }
      state.ws = null;
      state.welcomed = false;
      hideTyping();
      failAllPendingRatings();
      scheduleReconnect();
    });
  }

  /** Reconnect after 1 s, 2 s, 4 s… at most 15 s; the counter resets once a welcome arrives. */
  function scheduleReconnect() {
    if (state.reconnectTimer) {
      return;
    }
    var delay = BACKOFF_MS[Math.min(state.attempt, BACKOFF_MS.length - 1)];
    state.attempt += 1;
    if (state.everConnected || state.attempt > 1) {
      setNotice("Reconnecting…");
    }
    state.reconnectTimer = setTimeout(function () {
      state.reconnectTimer = null;
      connect();
    }, delay);
  }

  // Coming back online or to the tab should not wait for the rest of a long backoff.
  function reconnectNow() {
    if (state.reconnectTimer) {
      clearTimeout(state.reconnectTimer);
      state.reconnectTimer = null;
      connect();
    }
  }

  function sendFrame(frame, beforeWelcome) {
    var ws = state.ws;
    if (!ws || ws.readyState !== 1 || (!state.welcomed && !beforeWelcome)) {
      return false;
    }
    ws.send(JSON.stringify(frame));
    return true;
  }

  /* ------------------------------------------------------- server frames */

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
        onRated(frame.accepted);
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
      state.token = frame.token;
      storageSet(KEYS.token, frame.token);
    }
    if (state.conversationId && frame.conversation_id !== state.conversationId && state.lastId > 0) {
      // A different conversation (the stored token was replaced): start over from its first message.
      resetMessages();
      state.conversationId = frame.conversation_id;
      state.ws.close();
      return;
    }
    state.welcomed = true;
    state.everConnected = true;
    state.attempt = 0;
    setNotice("");
    state.conversationId = frame.conversation_id;
    var limits = frame.limits || {};
    if (typeof limits.max_message_chars === "number" && limits.max_message_chars > 0) {
      state.maxChars = limits.max_message_chars;
      ui.input.setAttribute("maxlength", String(state.maxChars));
    }
    (frame.history || []).forEach(function (message) {
      renderServerMessage(message);
    });
    // The welcome carries no agent or queue details, so keep what we know (or learn it from the history).
    setConversationState(frame.state, null, null);
    refreshQuickReplies();
    scrollToBottom(true);
    flushOutbox();
    if (state.wantsHuman) {
      state.wantsHuman = false;
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
    if (!state.open && message.sender !== "customer") {
      setUnread(state.unread + 1);
    }
    refreshQuickReplies();
    scrollToBottom(stick || message.sender === "customer");
  }

  function onAck(frame) {
    if (!frame.client_id) {
      return;
    }
    dropFromOutbox(frame.client_id);
    var node = state.byClientId.get(frame.client_id);
    if (node && typeof frame.id === "number") {
      assignId(node, frame.id);
    }
  }

  function onError(frame) {
    var message = typeof frame.message === "string" ? frame.message : "Something went wrong.";
    if (frame.client_id) {
      // The server refused this message for good (too long, empty...): do not resend it.
      dropFromOutbox(frame.client_id);
      var node = state.byClientId.get(frame.client_id);
      if (node && !node.dataset.id) {
        setDelivery(node, "failed", "Not sent: " + message);
      }
    }
    if (frame.code === "bad_rating") {
      failPendingRating();
    }
    showError(message);
  }

  /* ----------------------------------------------------- conversation state */

  function setConversationState(convState, agent, queue) {
    if (typeof convState === "string") {
      state.convState = convState;
    }
    if (agent && typeof agent.name === "string") {
      state.agentName = agent.name;
    }
    if (queue) {
      state.queue = queue;
    }
    if (state.convState !== "queued") {
      state.queue = queue || null;
    }
    ui.status.textContent = statusText();
    ui.panel.setAttribute("data-state", state.convState);
  }

  function statusText() {
    switch (state.convState) {
      case "queued":
        return queueText(state.queue);
      case "agent":
        return state.agentName ? "You're chatting with " + state.agentName : "You're chatting with our team";
      case "resolved":
        return "Resolved · Frontline assistant";
      default:
        return "Frontline assistant";
    }
  }

  function queueText(queue) {
    if (!queue) {
      return "Waiting for someone from our team…";
    }
    if (!queue.agents_online || queue.estimated_wait_seconds === null || queue.open_now === false) {
      return "No one from our team is online right now";
    }
    var minutes = Math.max(1, Math.ceil(queue.estimated_wait_seconds / 60));
    var position = typeof queue.position === "number" ? "You're number " + queue.position + " in the queue" : "You're in the queue";
    return position + " · about " + minutes + " min";
  }

  function showTyping() {
    var stick = isNearBottom();
    ui.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollToBottom(stick);
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    ui.typing.hidden = true;
  }

  /* ------------------------------------------------------------ messages */

  function resetMessages() {
    Array.prototype.slice.call(ui.messages.querySelectorAll(".fl-msg")).forEach(function (node) {
      node.remove();
    });
    state.byId.clear();
    state.byClientId.clear();
    state.lastId = 0;
    state.agentName = null;
  }

  /** Show a message from the server once, whether it came in the history, as a broadcast or both. */
  function renderServerMessage(message) {
    if (!message || typeof message.id !== "number") {
      return;
    }
    state.lastId = Math.max(state.lastId, message.id);
    if (message.sender === "agent" && message.payload && typeof message.payload.agent_name === "string") {
      state.agentName = message.payload.agent_name;
    }
    if (state.byId.has(message.id)) {
      return;
    }
    var own = message.client_id ? state.byClientId.get(message.client_id) : null;
    if (own) {
      // Our own message, shown already while it was being sent.
      dropFromOutbox(message.client_id);
      assignId(own, message.id);
      return;
    }
    var node = buildMessage(message.sender, message.text, message.at, message.payload, message.id);
    if (message.client_id) {
      state.byClientId.set(message.client_id, node);
    }
    insertById(node, message.id);
    state.byId.set(message.id, node);
    if (message.sender === "customer") {
      setDelivery(node, "sent");
    }
    refreshGrouping();
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
    state.byId.set(id, node);
    state.lastId = Math.max(state.lastId, id);
    setDelivery(node, "sent");
  }

  function buildMessage(sender, text, at, payload, id) {
    var safeSender = ["customer", "bot", "agent", "system"].indexOf(sender) >= 0 ? sender : "system";
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
    var bubble = el("div", { class: "fl-bubble" });
    appendLinkified(bubble, typeof text === "string" ? text : "");
    node.appendChild(bubble);
    appendAttachments(node, payload);
    node.appendChild(el("div", { class: "fl-meta" }, formatTime(at)));

    if (payload && payload.rating_request === true) {
      var question = ratingQuestion(payload);
      if (question) {
        node.appendChild(buildRating(node, id, question));
      }
    } else if (payload && Array.isArray(payload.buttons) && payload.buttons.length) {
      node.flButtons = payload.buttons; // rendered by refreshQuickReplies while this is the latest message
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
    Array.prototype.forEach.call(ui.messages.querySelectorAll(".fl-msg"), function (node) {
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
    var time = meta.dataset.time || meta.textContent;
    meta.dataset.time = time;
    var word = label || { sending: "Sending…", sent: "Sent", failed: "Not sent" }[status] || "";
    meta.textContent = time ? time + " · " + word : word;
  }

  /* ---------------------------------------------------- quick replies */

  /** Quick replies belong to the latest message only: once the conversation moves on they go away. */
  function refreshQuickReplies() {
    var nodes = ui.messages.querySelectorAll(".fl-msg");
    var latest = nodes.length ? nodes[nodes.length - 1] : null;
    Array.prototype.forEach.call(ui.messages.querySelectorAll(".fl-quick-replies"), function (group) {
      if (group.parentNode !== latest) {
        group.remove();
      }
    });
    if (latest && latest.flButtons && !latest.querySelector(".fl-quick-replies")) {
      latest.appendChild(buildQuickReplies(latest.flButtons));
    }
    refreshRatings();
  }

  /** Only the newest rating request can be answered: older, unanswered ones lose their scale. */
  function refreshRatings() {
    var open = ui.messages.querySelectorAll(".fl-msg--rating .fl-rating.is-open");
    for (var i = 0; i < open.length - 1; i += 1) {
      open[i].classList.remove("is-open");
      open[i].remove();
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
        chooseQuickReply(group, node, title, button.payload);
      });
      group.appendChild(node);
    });
    return group;
  }

  function chooseQuickReply(group, node, title, payload) {
    // Sent only while connected: a stale choice replayed after a reconnect could do the wrong thing.
    if (!sendFrame({ type: "button", client_id: uuid(), title: title, payload: payload })) {
      showError("You're offline right now. Try again in a moment.");
      return;
    }
    Array.prototype.forEach.call(group.querySelectorAll("button"), function (other) {
      other.disabled = true;
    });
    node.classList.add("is-chosen");
  }

  /* -------------------------------------------------------------- rating */

  /**
   * The questions the hub may ask after a conversation (bot/hub.py FEEDBACK_PROMPTS): csat is 1–5 stars,
   * nps is 0–10 "how likely are you to recommend us". A request without a question is csat (older messages).
   */
  var QUESTIONS = {
    csat: { min: 1, max: 5 },
    nps: { min: 0, max: 10 },
  };

  function ratingQuestion(payload) {
    var question = payload.question === undefined || payload.question === null ? "csat" : payload.question;
    return Object.prototype.hasOwnProperty.call(QUESTIONS, question) ? question : null;
  }

  // Rated requests are remembered by message id: each question is its own message, so answering the star
  // rating never marks the "recommend us" question that follows it as answered.
  function ratedIds() {
    var ids = readJson(KEYS.rated, []);
    return Array.isArray(ids) ? ids : [];
  }

  function rememberRated(id) {
    if (typeof id !== "number") {
      return;
    }
    var ids = ratedIds();
    if (ids.indexOf(id) < 0) {
      ids.push(id);
      storageSet(KEYS.rated, JSON.stringify(ids.slice(-50)));
    }
  }

  /**
   * The question's scale (1–5 stars, or 0–10 for nps), then an optional comment: one rating frame with the
   * question, the score (and the comment, if any).
   */
  function buildRating(messageNode, messageId, question) {
    var box = el("div", { class: "fl-rating", "data-question": question });
    var done = el("p", { class: "fl-rating-done", role: "status", hidden: true });
    messageNode.classList.add("fl-msg--rating");
    if (ratedIds().indexOf(messageId) >= 0) {
      done.textContent = thanks(question, true);
      done.hidden = false;
      box.appendChild(done);
      return box;
    }

    box.classList.add("is-open");
    var range = QUESTIONS[question];
    var scale = question === "nps" ? buildNpsScale(pick) : buildStars(pick);
    var form = el("div", { class: "fl-rating-form", hidden: true });
    var chosen = el("p", { class: "fl-rating-chosen", "data-testid": "fl-rating-chosen" });
    var comment = el("textarea", {
      class: "fl-rating-comment",
      rows: 2,
      maxlength: state.maxChars,
      placeholder: "Anything you'd like to add? (optional)",
      "aria-label": "Comment (optional)",
      "data-testid": "fl-rating-comment",
    });
    var actions = el("div", { class: "fl-rating-actions" });
    var skip = el("button", { class: "fl-rating-skip", type: "button", "data-testid": "fl-rating-skip" }, "Skip");
    var send = el("button", { class: "fl-rating-send", type: "button", "data-testid": "fl-rating-send" }, "Send");
    actions.appendChild(skip);
    actions.appendChild(send);
    form.appendChild(chosen);
    form.appendChild(comment);
    form.appendChild(actions);
    box.appendChild(scale);
    box.appendChild(form);
    box.appendChild(done);

    var score = null;

    function pick(value) {
      score = value;
      Array.prototype.forEach.call(scale.querySelectorAll("[data-score]"), function (button) {
        var n = Number(button.dataset.score);
        // Stars light up to the one chosen; on the 0–10 scale only the chosen number does.
        button.classList.toggle("is-on", question === "csat" ? n <= value : n === value);
        button.setAttribute("aria-pressed", n === value ? "true" : "false");
      });
      chosen.textContent = "You chose " + value + " out of " + range.max + ". Thank you!";
      form.hidden = false;
      comment.focus();
    }

    function submit(withComment) {
      if (score === null) {
        showError(question === "csat" ? "Pick a number of stars first." : "Pick a number from 0 to 10 first.");
        return;
      }
      var text = withComment ? comment.value.trim() : "";
      var frame = { type: "rating", question: question, score: score, message_id: messageId };
      if (text) {
        frame.comment = text;
      }
      if (!sendFrame(frame)) {
        showError("You're offline right now. Try again in a moment.");
        return;
      }
      setBusy(true);
      // Waiting for "rated": no longer open, so a newer request (the next question) does not remove it.
      box.classList.remove("is-open");
      box.classList.add("is-sending");
      state.pendingRatings.push({
        finish: function (accepted) {
          rememberRated(messageId);
          box.classList.remove("is-sending");
          scale.remove();
          form.remove();
          done.textContent = thanks(question, accepted);
          done.hidden = false;
        },
        fail: function () {
          setBusy(false);
          box.classList.remove("is-sending");
          box.classList.add("is-open");
          refreshRatings(); // a newer request may have come meanwhile: only that one can be answered
        },
      });
    }

    function setBusy(busy) {
      send.disabled = busy;
      skip.disabled = busy;
      Array.prototype.forEach.call(scale.querySelectorAll("button"), function (button) {
        button.disabled = busy;
      });
    }

    send.addEventListener("click", function () {
      submit(true);
    });
    skip.addEventListener("click", function () {
      submit(false);
    });
    return box;
  }

  function thanks(question, accepted) {
    if (question === "nps") {
      return accepted ? "Thanks for your answer!" : "You have answered this already. Thank you!";
    }
    return accepted ? "Thanks for your rating!" : "This conversation has been rated already. Thank you!";
  }

  function buildStars(onPick) {
    var stars = el("div", { class: "fl-stars", role: "group", "aria-label": "Rate us from 1 to 5 stars" });
    for (var n = 1; n <= 5; n += 1) {
      stars.appendChild(buildStar(n, onPick));
    }
    moveFocusWithArrows(stars);
    return stars;
  }

  function buildStar(score, onPick) {
    var star = el("button", {
      class: "fl-star",
      type: "button",
      "data-testid": "fl-star",
      "data-score": score,
      "aria-label": score + (score === 1 ? " star" : " stars"),
      "aria-pressed": "false",
    }, "★");
    star.addEventListener("click", function () {
      onPick(score);
    });
    return star;
  }

  /** 0–10 in two rows (0–5 above, 6–10 below, so 10 ends the scale on the right), captioned at both ends. */
  function buildNpsScale(onPick) {
    var wrap = el("div", { class: "fl-nps" });
    var group = el("div", {
      class: "fl-nps-scale",
      role: "group",
      "aria-label": "How likely are you to recommend us? From 0, not likely, to 10, very likely",
      "data-testid": "fl-nps-scale",
    });
    for (var n = QUESTIONS.nps.min; n <= QUESTIONS.nps.max; n += 1) {
      group.appendChild(buildNpsScore(n, onPick));
    }
    moveFocusWithArrows(group);
    // The group's label says what the ends mean; the captions, by 0 and by 10, are for the eye.
    wrap.appendChild(el("p", { class: "fl-nps-caption fl-nps-caption--low", "aria-hidden": "true" }, "Not likely"));
    wrap.appendChild(group);
    wrap.appendChild(el("p", { class: "fl-nps-caption fl-nps-caption--high", "aria-hidden": "true" }, "Very likely"));
    return wrap;
  }

  function buildNpsScore(score, onPick) {
    var meaning = score === 0 ? ", not likely" : score === 10 ? ", very likely" : "";
    var button = el("button", {
      class: "fl-nps-score",
      type: "button",
      "data-testid": "fl-nps-score",
      "data-score": score,
      "aria-label": score + " out of 10" + meaning,
      "aria-pressed": "false",
    }, String(score));
    button.addEventListener("click", function () {
      onPick(score);
    });
    return button;
  }

  /** Arrow keys move to the previous or next score (as in a radio group), Home and End to the scale's ends. */
  function moveFocusWithArrows(group) {
    group.addEventListener("keydown", function (event) {
      var buttons = Array.prototype.slice.call(group.querySelectorAll("button"));
      var at = buttons.indexOf(document.activeElement);
      var step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[event.key];
      var last = buttons.length - 1;
      var to = event.key === "Home" ? 0 : event.key === "End" ? last : step ? at + step : null;
      if (at < 0 || to === null) {
        return;
      }
      event.preventDefault();
      buttons[Math.max(0, Math.min(last, to))].focus();
    });
  }

  function onRated(accepted) {
    var pending = state.pendingRatings.shift();
    if (pending) {
      pending.finish(accepted === true);
    }
  }

  /** A rating the hub refused (bad_rating): the oldest one waiting, as the hub answers frames in order. */
  function failPendingRating() {
    var pending = state.pendingRatings.shift();
    if (pending) {
      pending.fail();
    }
  }

  /** The connection dropped before "rated" came: the customer may send those ratings again. */
  function failAllPendingRatings() {
    var pending = state.pendingRatings;
    state.pendingRatings = [];
    pending.forEach(function (item) {
      item.fail();
    });
  }

  /* ------------------------------------------------------------- sending */

  function sendFromInput() {
    var text = ui.input.value.trim();
    if (!text) {
      ui.input.focus();
      return; // nothing to send
    }
    if (text.length > state.maxChars) {
      showError("A message can be at most " + state.maxChars + " characters.");
      return;
    }
    var item = { client_id: uuid(), text: text, at: new Date().toISOString() };
    state.outbox.push(item);
    saveOutbox();
    renderPending(item);
    ui.input.value = "";
    autoGrow();
    ui.input.focus();
    sendFrame({ type: "message", client_id: item.client_id, text: item.text });
    if (!state.ws) {
      connect();
    }
  }

  /** The customer's own message, shown at once as "sending" until the server acknowledges it. */
  function renderPending(item) {
    if (state.byClientId.has(item.client_id)) {
      return;
    }
    var node = buildMessage("customer", item.text, item.at, null, null);
    node.dataset.clientId = item.client_id;
    state.byClientId.set(item.client_id, node);
    ui.messages.appendChild(node);
    setDelivery(node, "sending");
    refreshGrouping();
    refreshQuickReplies();
    scrollToBottom(true);
  }

  /** After (re)connecting: resend what was not acknowledged, with the same client_id (stored once). */
  function flushOutbox() {
    state.outbox.forEach(function (item) {
      var node = state.byClientId.get(item.client_id);
      if (node && node.dataset.id) {
        return; // arrived in the history: stored before the connection dropped
      }
      renderPending(item);
      sendFrame({ type: "message", client_id: item.client_id, text: item.text });
    });
    state.outbox = state.outbox.filter(function (item) {
      var node = state.byClientId.get(item.client_id);
      return !(node && node.dataset.id);
    });
    saveOutbox();
  }

  function dropFromOutbox(clientId) {
    var before = state.outbox.length;
    state.outbox = state.outbox.filter(function (item) {
      return item.client_id !== clientId;
    });
    if (state.outbox.length !== before) {
      saveOutbox();
    }
  }

  function requestHuman() {
    if (state.convState === "queued" || state.convState === "agent") {
      showError(
        state.convState === "agent"
          ? "You're already chatting with someone from our team."
          : "You're already in the queue; someone from our team will be with you soon."
      );
      return;
    }
    if (!sendFrame({ type: "human", client_id: uuid() })) {
      // Not connected (yet): ask as soon as the hub has welcomed us.
      state.wantsHuman = true;
      setNotice(state.everConnected ? "Reconnecting…" : "Connecting…");
      connect();
    }
  }

  /* ---------------------------------------------------------------- start */

  function start() {
    loadStylesheet();
    build();
    // Show unsent messages from an earlier page view right away; they are resent after the welcome.
    state.outbox.forEach(renderPending);
    // A returning customer reconnects at once, so replies that came while away show up (and count as unread).
    if (state.token || state.outbox.length) {
      connect();
    }
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        reconnectNow();
      }
    });
  }

  window.FrontlineWidget = {
    open: function () {
      openPanel();
    },
    close: function () {
      closePanel();
    },
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
