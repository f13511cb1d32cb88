/*
 * Frontline agent console: the queue, conversations, replies, notes and order actions, for trainers and
 * supervisors the review inbox (what the bot was unsure about, to label for the next training), and for
 * supervisors the Insight page (satisfaction, containment, handoffs and waiting times for a period).
 *
 * Talks to the hub's console API (bot/console_api.py, bot/review_api.py, bot/insight_api.py): JSON over fetch with the session
 * cookie, and the live socket /ws/agent for queue and conversation events. Every piece of text from customers, the bot or
 * agents is put in the page with textContent / createTextNode, never as HTML.
 */
(function () {
  "use strict";

  var TITLE = "Frontline console";
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
  var QUEUE_POLL_MS = 30000; // a safety net under the live events
  var TICK_MS = 20000; // how often waiting times are redrawn
  var RELOAD_POLL_MS = 1000; // how often a model reload under way is asked about
  var MAX_REPLY_CHARS = 4000; // the hub's default MAX_MESSAGE_CHARS; the console API does not say
  var MAX_NOTE_CHARS = 4000;
  var HANDLERS = { agent: true, supervisor: true }; // roles that take conversations and act on orders
  var REVIEWERS = { trainer: true, supervisor: true }; // roles that see the review inbox
  var SUPERVISORS = { supervisor: true }; // roles that see the Insight page (the hub answers 403 to the others)

  var PRIORITY_LABELS = { urgent: "Urgent priority", high: "High priority", normal: "Normal priority" };
  var REASON_LABELS = {
    requested: "The customer asked for a person",
    emotional: "The customer seems upset",
    complex: "A case the bot should not handle alone",
    not_understood: "The bot did not understand the customer",
    bot_error: "The bot failed (system error)",
  };
  var SENDER_LABELS = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "System" };
  var REVIEW_REASONS = {
    nlu_fallback: "Fell back",
    out_of_scope: "Out of scope",
    low_confidence: "Unsure",
    not_understood: "Handed over: not understood",
    missed_escalation: "Missed handoff?",
    near_threshold: "Nearly handed over",
  };
  var REVIEW_REASON_HINTS = {
    nlu_fallback: "No intent was confident enough, so the bot gave its fallback answer",
    out_of_scope: "The bot took it for something the shop does not handle",
    low_confidence: "The bot answered, but with less confidence than the review threshold",
    not_understood: "The customer wrote this shortly before the bot handed them to a person for not understanding",
    missed_escalation: "The customer was upset here, the bot did not hand over, and soon after they asked for a person",
    near_threshold: "The scores came close to a threshold for handing over, and the bot did not hand over",
  };
  // An escalation item's verdict (bot/escalation_review.py LABELS), instead of an intent.
  var ESCALATION_LABELS = { needs_person: "Needs a person", fine: "Fine" };
  var SCORE_NAMES = { strong_emotion: "strong feeling", needs_person: "needs a person" };
  var REVIEW_EMPTY = {
    open: "Nothing to review: the bot has been sure of everything customers said since the last look.",
    labelled: "No labelled messages yet.",
    dismissed: "No dismissed messages.",
  };
  var INTENT_NAME = /^[a-z][a-z0-9_]{1,63}$/; // as bot/review_inbox.py checks it (the hub has the last word)
  var DEFAULT_REASONS = {
    cancel: "Cancelled by an agent at the customer's request",
    refund: "Refund agreed with the customer",
    voucher: "Goodwill gesture",
  };

  var state = {
    agent: null,
    ws: null,
    wsAttempt: 0,
    wsTimer: null,
    watched: new Set(), // conversations this socket gets events for
    queue: { waiting: [], mine: [], agents_online: 0 },
    knownWaiting: null, // waiting ids at the last refresh; null before the first
    alerted: new Set(), // waiting conversations already announced with a beep
    unseen: new Set(), // new waiting conversations the agent has not looked at: the title count
    unreadMine: new Set(), // my conversations with customer messages I have not opened
    currentId: null,
    current: null, // GET /api/conversations/<id> of the open conversation
    messageIds: new Set(),
    noteIds: new Set(),
    controlsKey: null, // which reply/order controls are built, so reloads keep what the agent typed
    canned: [],
    agents: [],
    queueTimer: null,
    reloadTimer: null,
    pollTimer: null,
    tickTimer: null,
    audio: null,
    replyClientId: null,
    view: "queue", // or "review" (trainers and supervisors), or "insight" (supervisors)
    review: { status: "open", items: [], counts: null, intents: [], seq: 0 },
    modelPoll: null, // the next look at a model reload under way
    insight: null, // the Insight page's period, figures, charts and comments: newInsight()
  };

  var $ = function (id) {
    return document.getElementById(id);
  };

  /* ----------------------------------------------------------- DOM helpers */

  /** Create an element; attributes are set as attributes and `text` as textContent (never HTML). */
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

  function append(parent) {
    for (var i = 1; i < arguments.length; i += 1) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) {
        continue;
      }
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
    return node;
  }

  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

  /** Text with its http(s) URLs as links; everything, link text included, goes in as text. */
  function linkified(tag, attrs, text) {
    var node = el(tag, attrs);
    var value = typeof text === "string" ? text : "";
    var last = 0;
    value.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, "");
      node.appendChild(document.createTextNode(value.slice(last, offset)));
      node.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
      last = offset + url.length;
      return match;
    });
    node.appendChild(document.createTextNode(value.slice(last)));
    return node;
  }

  function safeLink(url, text) {
    if (typeof url === "string" && /^https?:\/\//i.test(url)) {
      return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text || url);
    }
    return document.createTextNode(text || "");
  }

  /**
   * A small coloured label. Priority and reason badges show the hub's own words (urgent, not_understood...),
   * the words agents see in reports too, with the longer explanation as a tooltip.
   */
  function badge(kind, value, label) {
    var raw = kind === "priority" || kind === "reason";
    return el(
      "span",
      {
        class: "badge badge--" + kind + " badge--" + kind + "-" + value,
        "data-value": value,
        title: raw && label ? label : null,
      },
      raw ? value : label || value
    );
  }

  /** A definition list from [label, value] pairs; values that are empty are left out. */
  function facts(rows) {
    var list = el("dl", { class: "facts" });
    rows.forEach(function (row) {
      var value = row[1];
      if (value === null || value === undefined || value === "") {
        return;
      }
      append(list, el("dt", null, row[0]));
      var dd = el("dd");
      append(dd, typeof value === "string" || typeof value === "number" ? String(value) : value);
      list.appendChild(dd);
    });
    return list;
  }

  /* -------------------------------------------------------- formatting */

  function parseTime(iso) {
    var time = iso ? Date.parse(iso) : NaN;
    return isNaN(time) ? null : time;
  }

  function formatTime(iso) {
    var time = parseTime(iso);
    if (time === null) {
      return "";
    }
    var date = new Date(time);
    var sameDay = new Date().toDateString() === date.toDateString();
    return sameDay
      ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : date.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  function formatDate(iso) {
    // Order dates come without a zone (shop-local): show them as written, just nicer.
    if (!iso) {
      return "";
    }
    var date = new Date(String(iso).length === 10 ? iso + "T12:00:00" : iso);
    if (isNaN(date.getTime())) {
      return String(iso);
    }
    return String(iso).length === 10
      ? date.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", year: "numeric" })
      : date.toLocaleString([], { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function waitedFor(iso) {
    var since = parseTime(iso);
    if (since === null) {
      return "";
    }
    var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
    if (minutes < 1) {
      return "just now";
    }
    if (minutes < 60) {
      return minutes + " min";
    }
    var hours = Math.floor(minutes / 60);
    if (hours < 48) {
      return hours + " h " + (minutes % 60) + " min";
    }
    return Math.floor(hours / 24) + " days";
  }

  function money(amount, currency) {
    var value = Number(amount);
    if (amount === null || amount === undefined || isNaN(value)) {
      return "";
    }
    try {
      return new Intl.NumberFormat([], { style: "currency", currency: currency || "GBP" }).format(value);
    } catch (e) {
      return value.toFixed(2) + " " + (currency || "");
    }
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

  function canHandle() {
    return !!(state.agent && HANDLERS[state.agent.role]);
  }

  function canReview() {
    return !!(state.agent && REVIEWERS[state.agent.role]);
  }

  function canSeeInsight() {
    return !!(state.agent && SUPERVISORS[state.agent.role]);
  }

  /* ------------------------------------------------------------------ API */

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  /** fetch + JSON. Changing requests are always JSON (the hub refuses anything else). */
  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    return fetch(path, options)
      .catch(function () {
        throw new ApiError(0, "network", "The hub cannot be reached. Check the connection and try again.");
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (response.ok) {
              return data;
            }
            var error = (data && data.error) || {};
            var failure = new ApiError(
              response.status,
              error.code || "http_" + response.status,
              error.message || "The hub answered " + response.status + "."
            );
            if (response.status === 401 && path !== "/api/login") {
              signedOut("Your session has ended. Please sign in again.");
            }
            throw failure;
          });
      });
  }

  function conversationPath(id, rest) {
    return "/api/conversations/" + encodeURIComponent(id) + (rest || "");
  }

  /* --------------------------------------------------------- action errors */

  /**
   * One error line at a time, placed right after the control that failed (and the single element with
   * data-testid="action-error", so it is unambiguous which action it belongs to).
   */
  function showActionError(anchor, message) {
    clearActionError();
    var node = el("p", { class: "action-error", role: "alert", "data-testid": "action-error" }, message);
    if (anchor && anchor.parentNode) {
      anchor.parentNode.insertBefore(node, anchor.nextSibling);
    }
  }

  function clearActionError() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-testid=action-error]"), function (node) {
      node.remove();
    });
  }

  function showSuccess(anchor, message) {
    var old = anchor.parentNode && anchor.parentNode.querySelector(".action-success");
    if (old) {
      old.remove();
    }
    var node = el("p", { class: "action-success", role: "status" }, message);
    anchor.parentNode.insertBefore(node, anchor.nextSibling);
    setTimeout(function () {
      node.remove();
    }, 8000);
  }

  /** Run an API call from a button: disabled while it runs, errors shown next to `anchor`. */
  function runAction(button, anchor, work) {
    clearActionError();
    button.disabled = true;
    return work()
      .catch(function (error) {
        showActionError(anchor, error.message || "That did not work.");
        return null;
      })
      .then(function (result) {
        button.disabled = false;
        return result;
      });
  }

  /* ---------------------------------------------------------- sign in/out */

  function boot() {
    document.addEventListener("pointerdown", unlockAudio);
    document.addEventListener("keydown", unlockAudio);
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", onLogout);
    $("alert-count").addEventListener("click", function () {
      state.unseen.clear();
      updateAlert();
      renderQueue();
    });
    setupReview();
    setupInsight();
    checkSession();
  }

  function checkSession() {
    api("GET", "/api/me")
      .then(function (data) {
        showApp(data.agent);
      })
      .catch(function (error) {
        if (error.status === 401) {
          return; // signedOut() has shown the login form
        }
        $("boot").textContent = "The hub cannot be reached right now; trying again…";
        setTimeout(checkSession, 3000);
      });
  }

  function onLogin(event) {
    event.preventDefault();
    var error = $("login-error");
    var submit = $("login-submit");
    var username = $("login-username").value.trim();
    var password = $("login-password").value;
    if (!username || !password) {
      error.textContent = "Enter your username and password.";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    submit.disabled = true;
    api("POST", "/api/login", { username: username, password: password })
      .then(function (data) {
        $("login-password").value = "";
        showApp(data.agent);
      })
      .catch(function (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        $("login-password").select();
      })
      .then(function () {
        submit.disabled = false;
      });
  }

  function onLogout() {
    // Stop the live updates first, so nothing asks the hub for data while the session ends.
    stopLive();
    api("POST", "/api/logout", {})
      .catch(function () {
        return null; // signed out here either way
      })
      .then(function () {
        signedOut("");
      });
  }

  function showApp(agent) {
    state.agent = agent;
    $("boot").hidden = true;
    $("login").hidden = true;
    $("app").hidden = false;
    $("whoami").textContent = agent.display_name + " · " + agent.role;
    document.body.setAttribute("data-role", agent.role);
    connectSocket();
    refreshQueue();
    loadCanned();
    loadAgents();
    clearInterval(state.pollTimer);
    clearInterval(state.tickTimer);
    state.pollTimer = setInterval(refreshQueue, QUEUE_POLL_MS);
    state.tickTimer = setInterval(updateWaitingTimes, TICK_MS);
    startView();
  }

  /** Back to the login form, with everything of the previous session forgotten. */
  function signedOut(message) {
    var wasIn = state.agent !== null;
    if (!wasIn && !$("login").hidden) {
      return; // already signed out (a 401 and the socket's close often arrive together)
    }
    state.agent = null;
    stopLive();
    state.queue = { waiting: [], mine: [], agents_online: 0 };
    state.knownWaiting = null;
    state.alerted.clear();
    state.unseen.clear();
    state.unreadMine.clear();
    closeConversation();
    resetReview();
    resetInsight();
    updateAlert();
    $("boot").hidden = true;
    $("app").hidden = true;
    $("login").hidden = false;
    var error = $("login-error");
    error.textContent = wasIn && message ? message : "";
    error.hidden = !error.textContent; // a fresh page that is simply not signed in shows no error
    $("login-username").focus();
  }

  function stopLive() {
    closeSocket();
    clearInterval(state.pollTimer);
    clearInterval(state.tickTimer);
    clearTimeout(state.queueTimer);
    clearTimeout(state.reloadTimer);
  }

  /* ---------------------------------------------------------- live socket */

  function connectSocket() {
    if (!state.agent || (state.ws && state.ws.readyState <= 1)) {
      return;
    }
    clearTimeout(state.wsTimer);
    state.wsTimer = null;
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(scheme + "//" + window.location.host + "/ws/agent");
    state.ws = ws;
    state.watched = new Set();
    setLive("connecting");
    ws.addEventListener("open", function () {
      // Whatever happened while we were away: fetch it again, and ask for the live events once more.
      watchAll();
      refreshQueue();
      if (state.currentId) {
        loadConversation(state.currentId);
      }
    });
    ws.addEventListener("message", function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (data && typeof data === "object") {
        handleEvent(data);
      }
    });
    ws.addEventListener("close", function (event) {
      if (state.ws !== ws) {
        return;
      }
      state.ws = null;
      if (event.code === 4401) {
        signedOut("Your session has ended. Please sign in again.");
        return;
      }
      if (state.agent) {
        scheduleReconnect();
      }
    });
  }

  /** 1 s, 2 s, 4 s… at most 15 s between tries; reset when the hub says hello. */
  function scheduleReconnect() {
    setLive("reconnecting");
    var delay = BACKOFF_MS[Math.min(state.wsAttempt, BACKOFF_MS.length - 1)];
    state.wsAttempt += 1;
    clearTimeout(state.wsTimer);
    state.wsTimer = setTimeout(connectSocket, delay);
  }

  function closeSocket() {
    clearTimeout(state.wsTimer);
    state.wsTimer = null;
    var ws = state.ws;
    state.ws = null;
    if (ws) {
      ws.close();
    }
  }

  function setLive(mode) {
    var live = $("live");
    live.setAttribute("data-live", mode);
    live.textContent = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…" }[mode] || mode;
  }

  function watch(id) {
    if (!id || state.watched.has(id) || !state.ws || state.ws.readyState !== 1) {
      return;
    }
    state.ws.send(JSON.stringify({ type: "watch", conversation_id: id }));
    state.watched.add(id);
  }

  /** The open conversation and all of mine, so new customer messages can be flagged. */
  function watchAll() {
    watch(state.currentId);
    state.queue.mine.forEach(function (conversation) {
      watch(conversation.id);
    });
  }

  function handleEvent(event) {
    switch (event.type) {
      case "hello":
        state.wsAttempt = 0;
        setLive("live");
        break;
      case "queued":
        if (event.conversation && event.conversation.id) {
          alertNew(event.conversation.id);
        }
        scheduleQueueRefresh();
        break;
      case "assigned":
        beep();
        scheduleQueueRefresh();
        reloadIfCurrent(event.conversation_id);
        break;
      case "claimed":
      case "resolved":
      case "left":
        scheduleQueueRefresh();
        reloadIfCurrent(event.conversation_id);
        break;
      case "message":
        if (event.message) {
          onLiveMessage(event.message);
        }
        break;
      case "state":
        // State events do not say which conversation they are about: reload the open one if it may have changed.
        if (state.current && event.state !== state.current.conversation.state) {
          scheduleReload();
        }
        break;
      case "note":
        if (event.note && event.note.conversation_id === state.currentId) {
          addNote(event.note);
        }
        break;
      case "order_action":
        scheduleReload();
        break;
      case "error":
        if (event.code === "unauthenticated") {
          signedOut("Your session has ended. Please sign in again.");
        }
        break;
      default:
        break;
    }
  }

  function onLiveMessage(message) {
    if (message.conversation_id === state.currentId) {
      var atBottom = isNearBottom($("transcript"));
      addTranscriptMessage(message);
      if (atBottom || message.sender !== "customer") {
        scrollToBottom();
      }
      if (message.sender === "customer" && document.hidden) {
        beep();
      }
      return;
    }
    var mine = state.queue.mine.some(function (c) {
      return c.id === message.conversation_id;
    });
    if (mine && message.sender === "customer") {
      state.unreadMine.add(message.conversation_id);
      renderMine();
      beep();
    }
  }

  function reloadIfCurrent(id) {
    if (id && id === state.currentId) {
      scheduleReload();
    }
  }

  /* --------------------------------------------------------------- alerts */

  function alertNew(id) {
    if (state.alerted.has(id)) {
      return;
    }
    state.alerted.add(id);
    if (id !== state.currentId) {
      state.unseen.add(id);
    }
    updateAlert();
    beep();
  }

  function updateAlert() {
    var count = state.unseen.size;
    document.title = count ? "(" + count + ") " + TITLE : TITLE;
    var node = $("alert-count");
    node.textContent = String(count);
    node.hidden = count === 0;
    node.setAttribute("aria-label", count + " new conversation" + (count === 1 ? "" : "s") + " waiting");
  }

  function audioContext() {
    if (!state.audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) {
        return null;
      }
      state.audio = new Context();
    }
    return state.audio;
  }

  // Browsers only let a page make sound after the user has interacted with it.
  function unlockAudio() {
    var context = audioContext();
    if (context && context.state === "suspended") {
      context.resume().catch(function () {});
    }
  }

  /** Two short tones made with the Web Audio API (no audio files). Not for trainers: they take no conversations. */
  function beep() {
    if (!canHandle()) {
      return;
    }
    var context = audioContext();
    if (!context) {
      return;
    }
    if (context.state === "suspended") {
      context.resume().catch(function () {});
    }
    [880, 1175].forEach(function (frequency, index) {
      var start = context.currentTime + index * 0.16;
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.18, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.14);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.15);
    });
  }

  /* ----------------------------------------------------------------- queue */

  // Several events often come together (claimed + state + queue announcements): fetch once for all.
  function scheduleQueueRefresh() {
    clearTimeout(state.queueTimer);
    state.queueTimer = setTimeout(refreshQueue, 120);
  }

  function refreshQueue() {
    if (!state.agent) {
      return Promise.resolve();
    }
    return api("GET", "/api/queue")
      .then(function (data) {
        state.queue = {
          waiting: Array.isArray(data.waiting) ? data.waiting : [],
          mine: Array.isArray(data.mine) ? data.mine : [],
          agents_online: data.agents_online || 0,
        };
        noticeQueueChanges();
        renderQueue();
        renderMine();
        watchAll();
      })
      .catch(function () {
        return null; // 401 handled in api(); otherwise the next event or poll tries again
      });
  }

  /** New waiting conversations alert (also those missed while the socket was down); gone ones stop counting. */
  function noticeQueueChanges() {
    var ids = new Set(
      state.queue.waiting.map(function (c) {
        return c.id;
      })
    );
    if (state.knownWaiting !== null) {
      ids.forEach(function (id) {
        if (!state.knownWaiting.has(id)) {
          alertNew(id);
        }
      });
    } else {
      ids.forEach(function (id) {
        state.alerted.add(id); // waiting before we looked: not news
      });
    }
    [state.alerted, state.unseen].forEach(function (set) {
      Array.from(set).forEach(function (id) {
        if (!ids.has(id)) {
          set.delete(id);
        }
      });
    });
    var mineIds = new Set(
      state.queue.mine.map(function (c) {
        return c.id;
      })
    );
    Array.from(state.unreadMine).forEach(function (id) {
      if (!mineIds.has(id)) {
        state.unreadMine.delete(id);
      }
    });
    state.knownWaiting = ids;
    updateAlert();
  }

  function renderQueue() {
    var list = clear($("queue"));
    var waiting = state.queue.waiting;
    $("waiting-count").textContent = String(waiting.length);
    var online = state.queue.agents_online;
    $("agents-online").textContent = online === 1 ? "1 agent online" : online + " agents online";
    if (!waiting.length) {
      list.appendChild(el("li", { class: "conv-list__empty" }, "Nobody is waiting."));
      return;
    }
    waiting.forEach(function (conversation) {
      list.appendChild(queueItem(conversation));
    });
  }

  function queueItem(conversation) {
    var item = el("li", {
      class: "conv-item" + (conversation.id === state.currentId ? " is-current" : ""),
      "data-testid": "queue-item",
      "data-conversation-id": conversation.id,
      "data-priority": conversation.priority || "normal",
      tabindex: 0,
    });
    if (state.unseen.has(conversation.id)) {
      item.classList.add("is-new");
    }
    var top = el("div", { class: "conv-item__top" });
    append(
      top,
      badge("priority", conversation.priority || "normal", PRIORITY_LABELS[conversation.priority] || "Normal"),
      conversation.reason ? badge("reason", conversation.reason, REASON_LABELS[conversation.reason] || conversation.reason) : null,
      el("span", { class: "conv-item__wait", "data-since": conversation.queued_at, title: "Waiting since " + formatTime(conversation.queued_at) },
        waitedFor(conversation.queued_at))
    );
    item.appendChild(top);
    item.appendChild(el("p", { class: "conv-item__summary" }, conversation.summary || "No summary."));

    var bottom = el("div", { class: "conv-item__bottom" });
    var where = (conversation.customer_name ? conversation.customer_name + " · " : "") + "via " + (conversation.channel || "web");
    if (conversation.queue && typeof conversation.queue.position === "number") {
      where += " · #" + conversation.queue.position + " in line";
    }
    bottom.appendChild(el("span", { class: "muted small" }, where));
    if (canHandle()) {
      var claimButton = el("button", { class: "btn btn--primary btn--small", type: "button", "data-testid": "claim" }, "Claim");
      claimButton.addEventListener("click", function (event) {
        event.stopPropagation();
        claim(conversation.id, claimButton, $("queue-messages"));
      });
      bottom.appendChild(claimButton);
    }
    item.appendChild(bottom);

    item.addEventListener("click", function () {
      openConversation(conversation.id);
    });
    item.addEventListener("keydown", function (event) {
      if ((event.key === "Enter" || event.key === " ") && event.target === item) {
        event.preventDefault();
        openConversation(conversation.id);
      }
    });
    return item;
  }

  function renderMine() {
    var list = clear($("mine"));
    var mine = state.queue.mine;
    $("mine-count").textContent = String(mine.length);
    if (!mine.length) {
      list.appendChild(el("li", { class: "conv-list__empty" }, "No conversations assigned to you."));
      return;
    }
    mine.forEach(function (conversation) {
      var item = el("li", {
        class: "conv-item conv-item--mine" + (conversation.id === state.currentId ? " is-current" : ""),
        "data-testid": "mine-item",
        "data-conversation-id": conversation.id,
        tabindex: 0,
      });
      var top = el("div", { class: "conv-item__top" });
      append(
        top,
        badge("priority", conversation.priority || "normal", PRIORITY_LABELS[conversation.priority] || "Normal"),
        state.unreadMine.has(conversation.id) ? el("span", { class: "badge badge--unread" }, "New message") : null,
        el("span", { class: "conv-item__wait" }, formatTime(conversation.updated_at))
      );
      item.appendChild(top);
      item.appendChild(el("p", { class: "conv-item__summary" }, conversation.summary || "No summary."));
      item.addEventListener("click", function () {
        openConversation(conversation.id);
      });
      item.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && event.target === item) {
          openConversation(conversation.id);
        }
      });
      list.appendChild(item);
    });
  }

  function updateWaitingTimes() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-since]"), function (node) {
      node.textContent = waitedFor(node.getAttribute("data-since"));
    });
  }

  function claim(id, button, anchor) {
    return runAction(button, anchor, function () {
      return api("POST", conversationPath(id, "/claim"), {}).catch(function (error) {
        if (error.status === 409) {
          error.message = "Someone else was faster: this conversation is no longer waiting.";
          scheduleQueueRefresh();
        }
        throw error;
      });
    }).then(function (result) {
      if (result) {
        state.unseen.delete(id);
        updateAlert();
        refreshQueue();
        openConversation(id);
      }
    });
  }

  /* ---------------------------------------------------------- conversation */

  function openConversation(id) {
    if (state.currentId !== id) {
      state.currentId = id;
      state.current = null;
      state.controlsKey = null;
      state.messageIds = new Set();
      state.noteIds = new Set();
      state.replyClientId = null;
      clearActionError();
      renderLoading();
    }
    state.unseen.delete(id);
    state.unreadMine.delete(id);
    updateAlert();
    renderQueue();
    renderMine();
    watch(id);
    loadAgents();
    return loadConversation(id);
  }

  function closeConversation() {
    state.currentId = null;
    state.current = null;
    state.controlsKey = null;
    var section = $("conversation");
    Array.prototype.forEach.call(section.querySelectorAll(":scope > :not(#empty-state)"), function (node) {
      node.remove();
    });
    $("empty-state").hidden = false;
    clear($("details")).hidden = true;
  }

  function scheduleReload() {
    if (!state.currentId || !state.agent) {
      return;
    }
    clearTimeout(state.reloadTimer);
    state.reloadTimer = setTimeout(function () {
      loadConversation(state.currentId);
    }, 150);
  }

  function loadConversation(id) {
    if (!state.agent) {
      return Promise.resolve();
    }
    return api("GET", conversationPath(id))
      .then(function (data) {
        if (state.currentId !== id) {
          return; // the agent has opened another one meanwhile
        }
        state.current = data;
        renderConversation(data);
      })
      .catch(function (error) {
        if (state.currentId === id && !state.current && error.status !== 401) {
          renderLoadError(error.message);
        }
      });
  }

  function renderLoading() {
    var section = $("conversation");
    closeChildren(section);
    $("empty-state").hidden = true;
    section.appendChild(el("p", { class: "loading" }, "Loading the conversation…"));
    clear($("details")).hidden = true;
  }

  function renderLoadError(message) {
    var section = $("conversation");
    closeChildren(section);
    section.appendChild(el("p", { class: "action-error" }, message));
  }

  function closeChildren(section) {
    Array.prototype.forEach.call(section.querySelectorAll(":scope > :not(#empty-state)"), function (node) {
      node.remove();
    });
  }

  function isMine(data) {
    return !!(
      state.agent &&
      data.conversation.state === "agent" &&
      data.conversation.assigned_agent_id === state.agent.id
    );
  }

  /**
   * Draw the open conversation. The transcript and notes only gain what is new, and the reply and order
   * controls are rebuilt only when what they depend on changes, so a reload never eats a half-typed reply.
   */
  function renderConversation(data) {
    var section = $("conversation");
    $("empty-state").hidden = true;
    var loading = section.querySelector(":scope > .loading, :scope > .action-error");
    if (loading) {
      loading.remove();
    }
    var mine = isMine(data);
    var key = [data.conversation.id, mine, data.order ? data.order.number : "", canHandle()].join("|");
    var rebuild = key !== state.controlsKey;
    if (rebuild) {
      closeChildren(section);
      state.messageIds = new Set();
      state.noteIds = new Set();
      section.appendChild(el("header", { class: "conv-header", id: "conv-header" }));
      section.appendChild(el("div", { class: "transcript", id: "transcript", "data-testid": "transcript", role: "log" }));
      if (mine) {
        section.appendChild(buildComposer());
      } else {
        section.appendChild(readOnlyNote(data));
      }
    } else if (!mine) {
      var note = section.querySelector(".readonly-note");
      if (note) {
        note.replaceWith(readOnlyNote(data));
      }
    }
    renderHeader(data, mine);
    data.messages.forEach(addTranscriptMessage);
    if (rebuild) {
      scrollToBottom();
    }
    renderDetails(data, mine, rebuild);
    state.controlsKey = key;
  }

  function readOnlyNote(data) {
    var text;
    var conversation = data.conversation;
    if (conversation.state === "queued") {
      text = canHandle() ? "This customer is waiting. Claim the conversation to reply." : "This customer is waiting for an agent.";
    } else if (conversation.state === "agent") {
      text = "This conversation is with " + (data.assigned_agent ? data.assigned_agent.display_name : "another agent") + ".";
    } else if (conversation.state === "resolved") {
      text = "This conversation is resolved.";
    } else {
      text = "The assistant is handling this conversation.";
    }
    return el("p", { class: "readonly-note" }, text);
  }

  function renderHeader(data, mine) {
    var header = clear($("conv-header"));
    var conversation = data.conversation;
    var title = el("div", { class: "conv-header__title" });
    append(
      title,
      el("h2", { "data-testid": "customer-name" },
        data.order && data.order.customer_name ? data.order.customer_name : conversation.customer_name || "Customer"),
      el(
        "span",
        { class: "muted small" },
        (conversation.customer_name && data.order && data.order.customer_name ? conversation.customer_name + " · " : "") +
          "via " + (conversation.channel || "web") + " · started " + formatTime(conversation.created_at)
      )
    );
    var meta = el("div", { class: "conv-header__meta" });
    append(
      meta,
      badge("state", conversation.state, stateLabel(conversation.state)),
      conversation.priority ? badge("priority", conversation.priority, PRIORITY_LABELS[conversation.priority]) : null,
      data.assigned_agent && conversation.state === "agent"
        ? el("span", { class: "muted small" }, "with " + data.assigned_agent.display_name)
        : null
    );
    var actions = el("div", { class: "conv-header__actions" });
    if (conversation.state === "queued" && canHandle()) {
      var claimButton = el("button", { class: "btn btn--primary", type: "button", "data-testid": "view-claim" }, "Claim");
      claimButton.addEventListener("click", function () {
        claim(conversation.id, claimButton, header);
      });
      actions.appendChild(claimButton);
    }
    if (mine) {
      // Errors go after the header (not inside it): a reload redraws the header but keeps its siblings.
      actions.appendChild(buildTransfer(conversation.id, header));
      var resolveButton = el("button", { class: "btn btn--success", type: "button", "data-testid": "resolve" }, "Resolve");
      resolveButton.addEventListener("click", function () {
        runAction(resolveButton, header, function () {
          return api("POST", conversationPath(conversation.id, "/resolve"), {});
        }).then(function (result) {
          if (result) {
            refreshQueue();
            loadConversation(conversation.id);
          }
        });
      });
      actions.appendChild(resolveButton);
    }
    append(header, title, meta, actions);
  }

  function stateLabel(value) {
    return { bot: "With the assistant", queued: "Waiting", agent: "With an agent", resolved: "Resolved" }[value] || value;
  }

  function buildTransfer(conversationId, anchor) {
    var select = el("select", { class: "select", "data-testid": "transfer", "aria-label": "Transfer to another agent" });
    select.appendChild(el("option", { value: "" }, "Transfer to…"));
    state.agents
      .filter(function (agent) {
        return agent.id !== state.agent.id && HANDLERS[agent.role];
      })
      .forEach(function (agent) {
        select.appendChild(
          el("option", { value: agent.id }, agent.display_name + (agent.online ? " (online)" : " (offline)"))
        );
      });
    select.addEventListener("change", function () {
      if (!select.value) {
        return;
      }
      var target = Number(select.value);
      runAction(select, anchor, function () {
        return api("POST", conversationPath(conversationId, "/transfer"), { agent_id: target });
      }).then(function (result) {
        select.value = "";
        if (result) {
          refreshQueue();
          loadConversation(conversationId);
        }
      });
    });
    return select;
  }

  /* ------------------------------------------------------------ transcript */

  function addTranscriptMessage(message) {
    var transcript = $("transcript");
    if (!transcript || !message || state.messageIds.has(message.id)) {
      return;
    }
    state.messageIds.add(message.id);
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

  function isNearBottom(node) {
    return !node || node.scrollHeight - node.scrollTop - node.clientHeight < 80;
  }

  function scrollToBottom() {
    var transcript = $("transcript");
    if (transcript) {
      transcript.scrollTop = transcript.scrollHeight;
    }
  }

  /* -------------------------------------------------------------- composer */

  function buildComposer() {
    var form = el("form", { class: "composer", novalidate: true });
    var tools = el("div", { class: "composer__tools" });
    var canned = el("select", { class: "select", "data-testid": "canned", "aria-label": "Canned replies" });
    fillCanned(canned);
    tools.appendChild(canned);
    tools.appendChild(el("span", { class: "muted small" }, "Enter sends · Shift+Enter for a new line"));

    var row = el("div", { class: "composer__row" });
    var input = el("textarea", {
      class: "textarea",
      id: "reply-input",
      rows: 3,
      maxlength: MAX_REPLY_CHARS,
      placeholder: "Write to the customer…",
      "aria-label": "Reply to the customer",
      "data-testid": "reply-input",
    });
    var send = el("button", { class: "btn btn--primary", type: "submit", "data-testid": "reply-send" }, "Send");
    append(row, input, send);
    append(form, tools, row);

    canned.addEventListener("change", function () {
      var chosen = state.canned.find(function (reply) {
        return String(reply.id) === canned.value;
      });
      if (chosen) {
        // Fill the box (after what is already written) so the agent can adjust it before sending.
        input.value = input.value.trim() ? input.value.replace(/\s+$/, "") + "\n" + chosen.text : chosen.text;
        input.focus();
      }
      canned.value = "";
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
    select.appendChild(el("option", { value: "" }, state.canned.length ? "Canned replies…" : "No canned replies"));
    state.canned.forEach(function (reply) {
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
    var id = state.currentId;
    // The same client_id for retries of one reply.
    state.replyClientId = state.replyClientId || uuid();
    runAction(button, anchor, function () {
      return api("POST", conversationPath(id, "/messages"), { text: text, client_id: state.replyClientId });
    }).then(function (result) {
      if (!result) {
        return;
      }
      state.replyClientId = null;
      if (input.value.trim() === text) {
        input.value = "";
      }
      if (state.currentId === id && result.message) {
        addTranscriptMessage(result.message);
        scrollToBottom();
      }
      input.focus();
    });
  }

  function loadCanned() {
    return api("GET", "/api/canned-replies")
      .then(function (data) {
        state.canned = Array.isArray(data.canned_replies) ? data.canned_replies : [];
        var select = document.querySelector("[data-testid=canned]");
        if (select) {
          fillCanned(select);
        }
      })
      .catch(function () {
        return null;
      });
  }

  function loadAgents() {
    return api("GET", "/api/agents")
      .then(function (data) {
        state.agents = Array.isArray(data.agents) ? data.agents : [];
        var select = document.querySelector("[data-testid=transfer]");
        if (select && select.value === "" && state.currentId) {
          select.replaceWith(buildTransfer(state.currentId, $("conv-header")));
        }
      })
      .catch(function () {
        return null;
      });
  }

  /* --------------------------------------------------------------- details */

  function renderDetails(data, mine, rebuild) {
    var details = $("details");
    details.hidden = false;
    if (rebuild) {
      clear(details);
      append(
        details,
        el("section", { class: "card", id: "packet-card", "data-testid": "packet" }),
        el("section", { class: "card", id: "order-card", "data-testid": "order" }),
        buildNotesCard()
      );
      var orderCard = $("order-card");
      append(orderCard, el("div", { id: "order-info" }), el("div", { id: "order-log" }));
      if (mine && canHandle() && data.order) {
        orderCard.appendChild(buildOrderActions(data));
      }
    }
    renderPacket(data);
    renderOrderInfo(data);
    renderOrderLog(data);
    data.notes.forEach(addNote);
  }

  function renderPacket(data) {
    var card = clear($("packet-card"));
    card.appendChild(el("h3", { class: "card__title" }, "Handoff"));
    var handoff = data.handoff;
    if (!handoff) {
      card.appendChild(el("p", { class: "muted" }, "This conversation has not been handed to a person."));
      return;
    }
    var packet = handoff.packet || {};
    var badges = el("div", { class: "badges" });
    append(
      badges,
      badge("priority", handoff.priority, PRIORITY_LABELS[handoff.priority] || handoff.priority),
      badge("reason", handoff.reason, REASON_LABELS[handoff.reason] || handoff.reason),
      packet.emotion ? badge("emotion", "x", "Emotion: " + emotionText(packet.emotion)) : null
    );
    card.appendChild(badges);
    card.appendChild(el("p", { class: "summary" }, handoff.summary || packet.summary || "No summary."));

    var customer = packet.customer || {};
    card.appendChild(
      facts([
        ["Requested", formatTime(handoff.requested_at) + (handoff.source ? " (by " + handoff.source + ")" : "")],
        ["Claimed", handoff.claimed_at ? formatTime(handoff.claimed_at) : ""],
        ["Order", packet.order_id || ""],
        ["Verified customer", customer.verified_customer_id || ""],
        ["Email", customer.email || ""],
        ["Interrupted form", packet.interrupted_form || ""],
        ["Bot channel", packet.channel || ""],
      ])
    );

    if (Array.isArray(packet.intents) && packet.intents.length) {
      card.appendChild(el("h4", { class: "card__subtitle" }, "What the customer said"));
      card.appendChild(intentsTable(packet.intents));
    }
    var entities = packet.entities && typeof packet.entities === "object" ? packet.entities : {};
    var entityNames = Object.keys(entities);
    if (entityNames.length) {
      card.appendChild(el("h4", { class: "card__subtitle" }, "Entities"));
      card.appendChild(
        facts(
          entityNames.map(function (name) {
            var values = Array.isArray(entities[name]) ? entities[name] : [entities[name]];
            return [name, values.map(String).join(", ")];
          })
        )
      );
    }
    if (Array.isArray(packet.signals) && packet.signals.length) {
      card.appendChild(el("h4", { class: "card__subtitle" }, "Signals"));
      var chips = el("div", { class: "chips" });
      var scores = packet.scores && typeof packet.scores === "object" ? packet.scores : {};
      packet.signals.forEach(function (signal) {
        var score = Number(scores[signal]);
        var text = String(signal) + (isFinite(score) && scores[signal] !== undefined ? " " + score.toFixed(2) : "");
        chips.appendChild(el("span", { class: "chip" }, text));
      });
      card.appendChild(chips);
    }
  }

  function emotionText(emotion) {
    if (typeof emotion === "string") {
      return emotion;
    }
    if (emotion && typeof emotion === "object") {
      var label = emotion.label || emotion.name || JSON.stringify(emotion);
      var score = Number(emotion.score !== undefined ? emotion.score : emotion.confidence);
      return isNaN(score) ? String(label) : label + " (" + Math.round(score * 100) + "%)";
    }
    return String(emotion);
  }

  function intentsTable(intents) {
    var table = el("table", { class: "table" });
    var head = el("tr");
    append(head, el("th", null, "Intent"), el("th", { class: "num" }, "Conf."), el("th", null, "Text"));
    append(table, append(el("thead"), head));
    var body = el("tbody");
    intents.forEach(function (turn) {
      var confidence = Number(turn.confidence);
      var row = el("tr", { class: !isNaN(confidence) && confidence < 0.5 ? "is-low" : null });
      append(
        row,
        el("td", { class: "mono" }, turn.intent || "—"),
        el("td", { class: "num" }, isNaN(confidence) ? "—" : Math.round(confidence * 100) + "%"),
        el("td", null, turn.text || "")
      );
      body.appendChild(row);
    });
    table.appendChild(body);
    return table;
  }

  function renderOrderInfo(data) {
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

  function renderOrderLog(data) {
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

  /** Cancel, refund and voucher forms, for the agent who owns the conversation. */
  function buildOrderActions(data) {
    var order = data.order;
    var limits = data.limits || {};
    var conversationId = data.conversation.id;
    var box = el("div", { class: "order-actions" });
    box.appendChild(el("h4", { class: "card__subtitle" }, "Act on this order"));

    // Cancel
    var cancelRow = el("div", { class: "action-row" });
    var cancelReason = el("input", { class: "input", type: "text", maxlength: 500, placeholder: "Reason (optional)", "aria-label": "Cancellation reason", "data-testid": "cancel-reason" });
    var cancelButton = el("button", { class: "btn btn--danger", type: "button", "data-testid": "cancel-order" }, "Cancel order");
    append(cancelRow, cancelReason, cancelButton);
    box.appendChild(el("p", { class: "action-label" }, "Cancel (only before it ships)"));
    box.appendChild(cancelRow);
    cancelButton.addEventListener("click", function () {
      orderAction(cancelButton, cancelRow, conversationPath(conversationId, "/orders/" + encodeURIComponent(order.number) + "/cancel"), {
        reason: cancelReason.value.trim() || DEFAULT_REASONS.cancel,
      }, [cancelReason]);
    });

    // Refund
    var refundRow = el("div", { class: "action-row" });
    var refundAmount = amountInput("refund-amount", "Refund amount", limits.refund);
    var refundReason = el("input", { class: "input", type: "text", maxlength: 500, placeholder: "Reason", "aria-label": "Refund reason", "data-testid": "refund-reason" });
    var refundButton = el("button", { class: "btn", type: "button", "data-testid": "refund" }, "Refund");
    append(refundRow, refundAmount, refundReason, refundButton);
    box.appendChild(el("p", { class: "action-label" }, "Refund" + (limits.refund ? " · up to " + money(limits.refund, order.currency) + " without a supervisor" : "")));
    box.appendChild(refundRow);
    refundButton.addEventListener("click", function () {
      if (!validAmount(refundAmount, refundRow)) {
        return;
      }
      orderAction(refundButton, refundRow, conversationPath(conversationId, "/orders/" + encodeURIComponent(order.number) + "/refund"), {
        amount: refundAmount.value.trim(),
        reason: refundReason.value.trim() || DEFAULT_REASONS.refund,
      }, [refundAmount, refundReason]);
    });

    // Goodwill voucher
    var voucherRow = el("div", { class: "action-row" });
    var voucherAmount = amountInput("voucher-amount", "Voucher amount", limits.voucher);
    var voucherReason = el("input", { class: "input", type: "text", maxlength: 500, placeholder: "Reason (optional)", "aria-label": "Voucher reason", "data-testid": "voucher-reason" });
    var voucherButton = el("button", { class: "btn", type: "button", "data-testid": "voucher" }, "Give voucher");
    append(voucherRow, voucherAmount, voucherReason, voucherButton);
    box.appendChild(el("p", { class: "action-label" }, "Goodwill voucher" + (limits.voucher ? " · up to " + money(limits.voucher, order.currency) : "")));
    box.appendChild(voucherRow);
    voucherButton.addEventListener("click", function () {
      if (!validAmount(voucherAmount, voucherRow)) {
        return;
      }
      orderAction(voucherButton, voucherRow, conversationPath(conversationId, "/voucher"), {
        customer_id: order.customer_id,
        amount: voucherAmount.value.trim(),
        currency: order.currency,
        reason: voucherReason.value.trim() || DEFAULT_REASONS.voucher,
      }, [voucherAmount, voucherReason]);
    });
    return box;
  }

  function amountInput(testid, label, limit) {
    return el("input", {
      class: "input input--amount",
      type: "number",
      inputmode: "decimal",
      min: "0.01",
      step: "0.01",
      max: limit || null,
      placeholder: "0.00",
      "aria-label": label,
      "data-testid": testid,
    });
  }

  function validAmount(input, anchor) {
    var value = Number(input.value);
    if (!input.value.trim() || isNaN(value) || value <= 0) {
      showActionError(anchor, "Enter an amount, like 12.50.");
      input.focus();
      return false;
    }
    return true;
  }

  function orderAction(button, anchor, path, body, inputs) {
    runAction(button, anchor, function () {
      return api("POST", path, body);
    }).then(function (result) {
      if (!result) {
        return;
      }
      inputs.forEach(function (input) {
        input.value = "";
      });
      showSuccess(anchor, "Done: " + (result.summary || "the order system accepted it") + ". The customer has been told.");
      scheduleReload();
    });
  }

  /* ----------------------------------------------------------------- notes */

  function buildNotesCard() {
    var card = el("section", { class: "card", id: "notes-card" });
    card.appendChild(el("h3", { class: "card__title" }, "Private notes"));
    card.appendChild(el("p", { class: "muted small" }, "Only agents see these."));
    card.appendChild(el("ul", { class: "notes", id: "notes", "data-testid": "notes" }));
    var form = el("form", { class: "note-form", novalidate: true });
    var input = el("textarea", {
      class: "textarea",
      rows: 2,
      maxlength: MAX_NOTE_CHARS,
      placeholder: "Add a note for the team…",
      "aria-label": "Private note",
      "data-testid": "note-input",
    });
    var send = el("button", { class: "btn", type: "submit", "data-testid": "note-send" }, "Add note");
    append(form, input, send);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) {
        showActionError(send, "Write the note first.");
        return;
      }
      var id = state.currentId;
      runAction(send, send, function () {
        return api("POST", conversationPath(id, "/notes"), { text: text });
      }).then(function (result) {
        if (result && result.note) {
          input.value = "";
          if (state.currentId === id) {
            addNote(result.note);
          }
        }
      });
    });
    card.appendChild(form);
    return card;
  }

  function addNote(note) {
    var list = $("notes");
    if (!list || !note || state.noteIds.has(note.id)) {
      return;
    }
    state.noteIds.add(note.id);
    var item = el("li", { class: "note", "data-id": note.id });
    var head = el("div", { class: "note__head" });
    append(head, el("strong", null, note.agent_name || "Agent"), el("span", { class: "muted small" }, formatTime(note.at)));
    append(item, head, linkified("div", { class: "note__text" }, note.text));
    list.appendChild(item);
  }

  /* ----------------------------------------------------------------- views */

  /**
   * Trainers and supervisors switch between the queue and the review inbox, supervisors also to Insight;
   * agents only ever have the queue. Trainers, who take no conversations, land on the inbox. `#review`,
   * `#insight` and `#conversation/<id>` in the address open those directly (a link opened in a new tab).
   */
  function startView() {
    $("views").hidden = !canReview();
    $("view-insight").hidden = !canSeeInsight();
    var hash = window.location.hash;
    var match = /^#conversation\/(.+)$/.exec(hash);
    var conversationId = null;
    if (match) {
      try {
        conversationId = decodeURIComponent(match[1]);
      } catch (e) {
        conversationId = null;
      }
    }
    if (conversationId) {
      showView("queue");
      openConversation(conversationId);
    } else if (canSeeInsight() && hash === "#insight") {
      showView("insight");
    } else if (canReview() && (hash === "#review" || state.agent.role === "trainer")) {
      showView("review");
    } else {
      showView("queue");
    }
  }

  function showView(name) {
    if ((name === "review" && !canReview()) || (name === "insight" && !canSeeInsight())) {
      name = "queue";
    }
    state.view = name;
    $("workspace").hidden = name !== "queue";
    $("review").hidden = name !== "review";
    $("insight").hidden = name !== "insight";
    ["queue", "review", "insight"].forEach(function (view) {
      var tab = $("view-" + view);
      if (view === name) {
        tab.setAttribute("aria-current", "page");
      } else {
        tab.removeAttribute("aria-current");
      }
    });
    if (window.history && window.history.replaceState) {
      var url = window.location.pathname + window.location.search + (name === "queue" ? "" : "#" + name);
      window.history.replaceState(null, "", url);
    }
    if (name === "review") {
      loadReview(state.review.status);
      checkReload();
    }
    if (name === "insight") {
      showInsight();
    }
  }

  /* ---------------------------------------------------------- review inbox */

  function setupReview() {
    Array.prototype.forEach.call(document.querySelectorAll("#views [data-view]"), function (tab) {
      tab.addEventListener("click", function () {
        showView(tab.getAttribute("data-view"));
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("#review-statuses [data-status]"), function (option) {
      option.addEventListener("click", function () {
        loadReview(option.getAttribute("data-status"));
      });
    });
    $("review-refresh").addEventListener("click", function () {
      var button = $("review-refresh");
      button.disabled = true;
      loadReview(state.review.status).then(function () {
        button.disabled = false;
      });
    });
    $("review-export").addEventListener("click", exportReviewed);
    $("model-reload").addEventListener("click", reloadModel);
  }

  /** Forget the inbox of the previous session (another person may sign in on this screen). */
  function resetReview() {
    state.view = "queue";
    clearTimeout(state.modelPoll);
    state.modelPoll = null;
    showReloading(false);
    state.review = { status: "open", items: [], counts: null, intents: [], seq: state.review.seq + 1 };
    clear($("review-list"));
    clear($("review-results"));
    clear($("review-intents"));
    $("review-announce").textContent = "";
    setReviewMessage("");
    renderReviewCounts();
    renderReviewStatuses();
    $("views").hidden = true;
    $("review").hidden = true;
    $("workspace").hidden = false;
  }

  /** GET /api/review for one status; the hub takes in what is new from Rasa's tracker store first. */
  function loadReview(status) {
    if (!canReview()) {
      return Promise.resolve();
    }
    state.review.seq += 1;
    var seq = state.review.seq;
    var changed = status !== state.review.status;
    state.review.status = status;
    renderReviewStatuses();
    var list = $("review-list");
    list.setAttribute("aria-busy", "true");
    if (changed || state.review.counts === null) {
      clear(list);
      setReviewMessage("Loading…");
    }
    return api("GET", "/api/review?status=" + encodeURIComponent(status))
      .then(function (data) {
        if (seq !== state.review.seq || !canReview()) {
          return; // another status was asked for meanwhile, or the session ended
        }
        state.review.items = Array.isArray(data.items) ? data.items : [];
        state.review.counts = data.counts && typeof data.counts === "object" ? data.counts : {};
        state.review.intents = Array.isArray(data.intents) ? data.intents : [];
        fillIntents();
        renderReview();
      })
      .catch(function (error) {
        if (seq !== state.review.seq || error.status === 401) {
          return;
        }
        clear(list);
        setReviewMessage(error.message || "The review inbox could not be loaded.", true);
      })
      .then(function () {
        if (seq === state.review.seq) {
          list.removeAttribute("aria-busy");
        }
      });
  }

  function fillIntents() {
    var datalist = clear($("review-intents"));
    state.review.intents.forEach(function (name) {
      datalist.appendChild(el("option", { value: name }));
    });
  }

  function renderReview() {
    renderReviewCounts();
    var list = clear($("review-list"));
    state.review.items.forEach(function (item) {
      list.appendChild(reviewItem(item));
    });
    updateReviewMessage();
  }

  function renderReviewStatuses() {
    Array.prototype.forEach.call(document.querySelectorAll("#review-statuses [data-status]"), function (option) {
      option.setAttribute("aria-pressed", option.getAttribute("data-status") === state.review.status ? "true" : "false");
    });
  }

  function renderReviewCounts() {
    var counts = state.review.counts || {};
    ["open", "labelled", "dismissed"].forEach(function (status) {
      var node = document.querySelector("[data-testid=review-count-" + status + "]");
      node.textContent = String(Number(counts[status]) || 0);
    });
    var open = Number(counts.open) || 0;
    var tab = $("review-tab-count");
    tab.textContent = String(open);
    tab.hidden = open === 0;
  }

  function setReviewMessage(text, isError) {
    var node = $("review-message");
    node.textContent = text || "";
    node.hidden = !text;
    node.className = isError ? "action-error review__message" : "muted review__message";
    if (isError) {
      node.setAttribute("role", "alert");
    } else {
      node.removeAttribute("role");
    }
  }

  /** The empty inbox, or that only the first items are shown (the hub sends at most 200 at a time). */
  function updateReviewMessage() {
    var status = state.review.status;
    var shown = state.review.items.length;
    var total = Number((state.review.counts || {})[status]) || 0;
    if (!shown) {
      setReviewMessage(REVIEW_EMPTY[status] || "Nothing here.");
    } else if (total > shown) {
      setReviewMessage("Showing " + shown + " of " + total + ". Review these, and the next ones come in.");
    } else {
      setReviewMessage("");
    }
  }

  function announce(text) {
    $("review-announce").textContent = text;
  }

  function shortText(text) {
    var value = String(text || "").replace(/\s+/g, " ").trim();
    return value.length > 48 ? value.slice(0, 47) + "…" : value;
  }

  function percent(confidence) {
    var value = Number(confidence);
    return confidence === null || confidence === undefined || isNaN(value) ? "" : Math.round(value * 100) + "%";
  }

  function reviewItem(item) {
    var textId = "review-text-" + item.id;
    var node = el("li", {
      class: "review-item review-item--" + item.status,
      "data-testid": "review-item",
      "data-id": item.id,
      "data-status": item.status,
      "data-kind": item.kind || "intent",
      "data-conversation-id": item.conversation_id,
    });

    var top = el("div", { class: "review-item__top" });
    var reason = badge("review", item.reason, REVIEW_REASONS[item.reason] || item.reason);
    reason.setAttribute("data-testid", "review-reason");
    reason.title = REVIEW_REASON_HINTS[item.reason] || "";
    var escalation = item.kind === "escalation";
    var predicted = el("span", { class: "review-item__predicted", "data-testid": "review-predicted" });
    if (escalation) {
      append(predicted, el("span", { class: "muted" }, "Intent "), el("code", { class: "mono" }, item.predicted_intent || "—"));
    } else if (item.predicted_intent) {
      append(
        predicted,
        el("span", { class: "muted" }, "Bot's guess "),
        el("code", { class: "mono" }, item.predicted_intent),
        item.confidence !== null && item.confidence !== undefined
          ? el("span", { class: "review-item__confidence", "data-testid": "review-confidence" }, percent(item.confidence))
          : null
      );
    } else {
      predicted.appendChild(el("span", { class: "muted" }, "No guess"));
    }
    var when = el(
      "time",
      { class: "review-item__when muted small", datetime: item.created_at, title: formatDate(item.created_at) },
      formatTime(item.created_at)
    );
    var link = conversationLink(item.conversation_id, textId, "review-item__link", "review-conversation");
    append(top, reason, predicted, when, link);
    node.appendChild(top);

    node.appendChild(el("blockquote", { class: "review-item__text", id: textId, "data-testid": "review-text" }, item.text));
    if (escalation) {
      node.appendChild(escalationScores(item.scores));
    }

    var entities = Array.isArray(item.entities) ? item.entities : [];
    if (entities.length) {
      var chips = el("div", { class: "chips review-item__entities", "aria-label": "Entities found" });
      entities.forEach(function (entity) {
        if (entity && entity.entity) {
          chips.appendChild(el("span", { class: "chip" }, entity.entity + ": " + String(entity.value)));
        }
      });
      node.appendChild(chips);
    }

    var foot = el("div", { class: "review-item__foot" });
    if (item.status === "open") {
      foot.appendChild(escalation ? escalationForm(item, node, textId) : reviewForm(item, node, textId));
    } else {
      var verdict = el("p", { class: "review-item__verdict", "data-testid": "review-verdict" });
      if (item.status === "labelled" && escalation) {
        append(verdict, el("strong", { "data-testid": "review-label-name" }, ESCALATION_LABELS[item.label] || item.label || "—"));
      } else if (item.status === "labelled") {
        append(verdict, "Labelled ", el("code", { class: "mono", "data-testid": "review-label-name" }, item.label || "—"));
      } else {
        verdict.appendChild(document.createTextNode("Dismissed"));
      }
      append(
        verdict,
        " by ",
        el("strong", { "data-testid": "review-trainer" }, item.trainer_name || "a trainer"),
        item.reviewed_at ? el("span", { class: "muted" }, " · " + formatTime(item.reviewed_at)) : null
      );
      foot.appendChild(verdict);
    }
    node.appendChild(foot);
    return node;
  }

  /** "Open the conversation": in this console, or from the address in a new tab or window. */
  function conversationLink(conversationId, textId, className, testId) {
    var link = el(
      "a",
      {
        class: className,
        href: "#conversation/" + encodeURIComponent(conversationId),
        "data-testid": testId,
        "aria-describedby": textId,
      },
      "Open the conversation"
    );
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return; // a new tab or window: the console there opens it from the address
      }
      event.preventDefault();
      showConversation(conversationId);
    });
    return link;
  }

  /** The intent picker (the domain's intents, or a new name), Label and Dismiss, for an open item. */
  function reviewForm(item, node, textId) {
    var form = el("form", { class: "review-item__form", novalidate: true });
    var inputId = "review-intent-" + item.id;
    var hintId = "review-hint-" + item.id;
    var input = el("input", {
      class: "input mono review-item__intent",
      id: inputId,
      type: "text",
      list: "review-intents",
      value: item.reason === "out_of_scope" ? "out_of_scope" : item.predicted_intent || "",
      maxlength: 64,
      autocomplete: "off",
      autocapitalize: "none",
      spellcheck: "false",
      placeholder: "intent_name",
      "aria-describedby": hintId + " " + textId,
      "data-testid": "review-intent",
    });
    var hint = el("span", { class: "review-item__hint muted small", id: hintId, "data-testid": "review-hint" });
    var labelButton = el("button", { class: "btn btn--primary", type: "submit", "data-testid": "review-label" }, "Label");
    var dismissButton = el("button", { class: "btn", type: "button", "data-testid": "review-dismiss" }, "Dismiss");
    labelButton.setAttribute("aria-describedby", textId);
    dismissButton.setAttribute("aria-describedby", textId);
    var field = el("div", { class: "review-item__field" });
    append(field, el("label", { class: "review-item__label", for: inputId }, "Intent"), input);
    append(form, field, labelButton, dismissButton, hint);

    function updateHint() {
      var name = input.value.trim();
      if (!name) {
        hint.textContent = "Pick an intent from the list or type a new name.";
      } else if (state.review.intents.indexOf(name) !== -1) {
        hint.textContent = "";
      } else if (!INTENT_NAME.test(name)) {
        hint.textContent = "A new intent's name: 2-64 lower-case letters, digits and underscores.";
      } else {
        hint.textContent = "A new intent: it is exported apart, until someone adds it to domain.yml.";
      }
    }
    updateHint();
    input.addEventListener("input", updateHint);

    var buttons = [labelButton, dismissButton];
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var intent = input.value.trim();
      if (!intent) {
        showActionError(form, "Pick or type the intent this message should have been.");
        input.focus();
        return;
      }
      reviewAction(item, node, form, buttons, "/label", { intent: intent }, input).then(function (done) {
        if (done) {
          announce("Labelled “" + shortText(item.text) + "” as " + intent + ".");
        }
      });
    });
    dismissButton.addEventListener("click", function () {
      reviewAction(item, node, form, buttons, "/dismiss", {}, null).then(function (done) {
        if (done) {
          announce("Dismissed “" + shortText(item.text) + "”.");
        }
      });
    });
    return form;
  }

  /** Why an escalation item is here, as chips: the feeling, the person probability, the thresholds it came close
   * to, when the customer asked for a person. Text only: the scores come from the hub's JSON. */
  function escalationScores(scores) {
    scores = scores && typeof scores === "object" ? scores : {};
    var chips = el("div", { class: "chips review-item__scores", "aria-label": "Why it is here", "data-testid": "review-scores" });
    function chip(text, testid) {
      chips.appendChild(el("span", { class: "chip", "data-testid": testid }, text));
    }
    var emotion = scores.emotion && typeof scores.emotion === "object" ? scores.emotion : null;
    if (emotion && emotion.level && emotion.level !== "none") {
      chip("Upset: " + String(emotion.level) + (emotion.label ? " (" + String(emotion.label) + ")" : ""), "review-score-emotion");
    }
    if (emotion && emotion.strong !== undefined) {
      chip("strong feeling " + percent(emotion.strong), "review-score-strong");
    }
    if (scores.person !== undefined && scores.person !== null) {
      chip("needs a person " + percent(scores.person), "review-score-person");
    }
    var near = scores.near && typeof scores.near === "object" ? scores.near : {};
    Object.keys(near)
      .sort()
      .forEach(function (name) {
        var value = near[name] || {};
        var label = SCORE_NAMES[name] || String(name).replace(/^topic:/, "topic ");
        chip("Near the threshold: " + label + " " + percent(value.score) + " of " + percent(value.threshold), "review-score-near");
      });
    var asked = scores.asked_for_person && typeof scores.asked_for_person === "object" ? scores.asked_for_person : null;
    if (asked) {
      var later = Number(asked.messages_later) || 1;
      chip("Asked for a person " + later + " message" + (later === 1 ? "" : "s") + " later", "review-score-asked");
    }
    return chips;
  }

  /** "Needs a person", "Fine" and Dismiss, for an open escalation item (it takes no intent). */
  function escalationForm(item, node, textId) {
    var form = el("div", { class: "review-item__form", role: "group", "aria-label": "Should a person have stepped in?" });
    var question = el("span", { class: "review-item__label" }, "Should a person have stepped in?");
    var buttons = Object.keys(ESCALATION_LABELS).map(function (label) {
      var button = el(
        "button",
        {
          class: label === "needs_person" ? "btn btn--primary" : "btn",
          type: "button",
          "data-testid": label === "needs_person" ? "review-needs-person" : "review-fine",
          "aria-describedby": textId,
        },
        ESCALATION_LABELS[label]
      );
      button.addEventListener("click", function () {
        reviewAction(item, node, form, buttons, "/label", { label: label }, null).then(function (done) {
          if (done) {
            announce("Labelled “" + shortText(item.text) + "”: " + ESCALATION_LABELS[label] + ".");
          }
        });
      });
      return button;
    });
    var dismissButton = el("button", { class: "btn", type: "button", "data-testid": "review-dismiss", "aria-describedby": textId }, "Dismiss");
    buttons.push(dismissButton);
    dismissButton.addEventListener("click", function () {
      reviewAction(item, node, form, buttons, "/dismiss", {}, null).then(function (done) {
        if (done) {
          announce("Dismissed “" + shortText(item.text) + "”.");
        }
      });
    });
    append(form, question);
    buttons.forEach(function (button) {
      form.appendChild(button);
    });
    return form;
  }

  /** Label or dismiss; the item leaves the list and the counts follow. Errors (a bad name: 422) go by the item. */
  function reviewAction(item, node, form, buttons, action, body, input) {
    clearActionError();
    buttons.forEach(function (button) {
      button.disabled = true;
    });
    return api("POST", "/api/review/" + encodeURIComponent(item.id) + action, body)
      .then(function (result) {
        var updated = (result && result.item) || {};
        reviewed(item, node, updated.status || (action === "/label" ? "labelled" : "dismissed"));
        return true;
      })
      .catch(function (error) {
        buttons.forEach(function (button) {
          button.disabled = false;
        });
        if (error.status !== 401) {
          showActionError(form, error.message || "That did not work.");
          if (input) {
            input.focus();
          }
        }
        return false;
      });
  }

  function reviewed(item, node, status) {
    var counts = state.review.counts || {};
    counts[item.status] = Math.max(0, (Number(counts[item.status]) || 0) - 1);
    counts[status] = (Number(counts[status]) || 0) + 1;
    state.review.counts = counts;
    state.review.items = state.review.items.filter(function (other) {
      return other.id !== item.id;
    });
    // Keyboard users go on with the next item (or the previous one, or the inbox's title).
    var next = node.nextElementSibling || node.previousElementSibling;
    var hadFocus = node.contains(document.activeElement);
    node.remove();
    renderReviewCounts();
    updateReviewMessage();
    if (hadFocus || document.activeElement === document.body) {
      var target =
        next &&
        (next.querySelector("[data-testid=review-intent]") ||
          next.querySelector("[data-testid=review-needs-person]") ||
          next.querySelector("a"));
      (target || $("review-title")).focus();
    }
  }

  /** A review item's (or an Insight comment's) conversation, in the console's conversation view; read only
   * unless it is the signed-in agent's own. */
  function showConversation(conversationId) {
    showView("queue");
    openConversation(conversationId);
    var section = $("conversation");
    section.setAttribute("tabindex", "-1");
    section.focus();
  }

  function exportReviewed() {
    var button = $("review-export");
    runAction(button, $("review-tools"), function () {
      return api("POST", "/api/review/export", {});
    }).then(function (result) {
      if (result && result.export) {
        renderExport(result.export);
      }
    });
  }

  function renderExport(result) {
    var perIntent = result.per_intent && typeof result.per_intent === "object" ? result.per_intent : {};
    var newIntents = result.new_intents && typeof result.new_intents === "object" ? result.new_intents : {};
    var card = el("section", { class: "card review-result", "data-testid": "export-result", "aria-labelledby": "export-title" });
    append(
      card,
      el("h2", { class: "card__title", id: "export-title" }, "Exported to training data"),
      facts([
        ["File", el("code", { class: "mono", "data-testid": "export-path" }, result.path)],
        ["Examples", el("span", { "data-testid": "export-examples" }, String(Number(result.examples) || 0))],
        [
          "Duplicates left out",
          el("span", { "data-testid": "export-duplicates" },
            String(Number(result.duplicates_left_out) || 0) + " (already in the training data)"),
        ],
      ])
    );
    var names = Object.keys(perIntent);
    card.appendChild(el("h3", { class: "card__subtitle" }, "Examples per intent"));
    if (names.length) {
      card.appendChild(countsTable(perIntent, "export-per-intent"));
    } else {
      card.appendChild(el("p", { class: "muted small" }, "None for intents in domain.yml."));
    }
    var verdicts = result.per_escalation_label && typeof result.per_escalation_label === "object" ? result.per_escalation_label : {};
    if (result.escalation_path) {
      card.appendChild(el("h3", { class: "card__subtitle" }, "Escalation verdicts"));
      var escalationFile = el("p", { class: "small" });
      append(
        escalationFile,
        "Written to ",
        el("code", { class: "mono", "data-testid": "export-escalation-path" }, result.escalation_path),
        ": " + (Number(verdicts.needs_person) || 0) + " needed a person, " + (Number(verdicts.fine) || 0) + " fine."
      );
      card.appendChild(escalationFile);
    }
    var fresh = Object.keys(newIntents);
    if (fresh.length) {
      card.appendChild(el("h3", { class: "card__subtitle" }, "Not in domain.yml yet"));
      var where = el("p", { class: "small" });
      append(
        where,
        "Written to ",
        el("code", { class: "mono", "data-testid": "export-new-intents-path" }, result.new_intents_path || "review/new_intents.yml"),
        ", outside data/, so training still works. Add each intent to domain.yml with a response, then move its " +
          "examples into data/nlu/ (README: “Teach the bot something new”)."
      );
      card.appendChild(where);
      card.appendChild(countsTable(newIntents, "export-new-intents"));
    }
    card.appendChild(el("p", { class: "muted small" }, "Next: make validate train, then Reload model."));
    replaceResult("export-result", card);
    announce(
      "Exported " + (Number(result.examples) || 0) + " examples to " + result.path +
        (fresh.length ? "; " + fresh.length + " new intent" + (fresh.length === 1 ? "" : "s") + " written apart." : ".")
    );
  }

  function countsTable(counts, testid) {
    var table = el("table", { class: "table", "data-testid": testid });
    var head = el("tr");
    append(head, el("th", null, "Intent"), el("th", { class: "num" }, "Examples"));
    append(table, append(el("thead"), head));
    var body = el("tbody");
    Object.keys(counts)
      .sort()
      .forEach(function (name) {
        var row = el("tr", { "data-intent": name });
        append(row, el("td", { class: "mono" }, name), el("td", { class: "num" }, String(counts[name])));
        body.appendChild(row);
      });
    table.appendChild(body);
    return table;
  }

  function replaceResult(testid, card) {
    var results = $("review-results");
    var old = results.querySelector("[data-testid=" + testid + "]");
    if (old) {
      old.replaceWith(card);
    } else {
      results.appendChild(card);
    }
  }

  /**
   * Load the newest trained model into Rasa. The hub runs it as a job (POST answers 202 at once; GET says how
   * it goes) and holds customers' messages while Rasa loads, 10-60 s: the button stays disabled until it is done.
   */
  function reloadModel() {
    clearActionError();
    showReloading(true);
    announce("Reloading the model: this can take up to a minute.");
    api("POST", "/api/model/reload", {})
      .then(function (data) {
        followReload(data && data.reload);
      })
      .catch(function (error) {
        if (error.status === 409) {
          announce("Another reload is already under way: waiting for it to finish.");
          followReload(null);
          return;
        }
        showReloading(false);
        announce("");
        if (error.status !== 401) {
          showActionError($("review-tools"), error.message || "The model could not be reloaded.");
        }
      });
  }

  /** A reload under way (started here, by someone else, or before this page was loaded): wait for its end. */
  function checkReload() {
    if (!canReview() || state.modelPoll) {
      return;
    }
    api("GET", "/api/model/reload")
      .then(function (data) {
        if (data && data.reload && data.reload.state === "loading" && !state.modelPoll) {
          announce("A model reload is under way.");
          followReload(data.reload);
        }
      })
      .catch(function () {
        return null;
      });
  }

  function followReload(status) {
    clearTimeout(state.modelPoll);
    state.modelPoll = null;
    if (!canReview()) {
      return;
    }
    if (!status || status.state === "loading") {
      showReloading(true);
      state.modelPoll = setTimeout(function () {
        api("GET", "/api/model/reload")
          .then(function (data) {
            followReload(data && data.reload);
          })
          .catch(function (error) {
            if (error.status === 0) {
              followReload(null); // the hub did not answer this time: ask again
              return;
            }
            state.modelPoll = null;
            showReloading(false);
            if (error.status !== 401) {
              showActionError($("review-tools"), error.message || "The reload's progress could not be read.");
            }
          });
      }, RELOAD_POLL_MS);
      return;
    }
    showReloading(false);
    if (status.state === "done") {
      renderReload(status);
    } else if (status.state === "failed") {
      announce("");
      showActionError($("review-tools"), "The model did not load: " + (status.error || "Rasa refused it") + ".");
    }
  }

  function showReloading(on) {
    var button = $("model-reload");
    button.disabled = on;
    button.textContent = on ? "Reloading the model…" : "Reload model";
    if (on) {
      button.setAttribute("aria-busy", "true");
    } else {
      button.removeAttribute("aria-busy");
    }
  }

  function renderReload(status) {
    var paused = Number(status.paused_seconds);
    var card = el("section", { class: "card review-result", "data-testid": "reload-result", "aria-labelledby": "reload-title" });
    var text = el("p", { class: "small" });
    append(
      text,
      "Rasa now answers with ",
      el("code", { class: "mono", "data-testid": "reload-model" }, status.model || "the new model"),
      status.paused_seconds === null || status.paused_seconds === undefined || isNaN(paused)
        ? "."
        : ". Customers' messages waited " + paused.toFixed(1) + " s while it loaded."
    );
    append(card, el("h2", { class: "card__title", id: "reload-title" }, "Model reloaded"), text);
    replaceResult("reload-result", card);
    announce("Model reloaded: " + (status.model || "the new model") + ".");
  }

  /* ---------------------------------------------------------------- insight */

  /*
   * The supervisors' Insight page (bot/insight_api.py): headline tiles, three charts, every table of the report
   * as the hub sends it (title, column labels and rows), and the comments customers left with their ratings.
   * Periods are whole UTC days, `since` and `until` both included, as the hub counts them.
   */

  var INSIGHT_PRESETS = [7, 30, 90, 365];
  var INSIGHT_DEFAULT_DAYS = 30;
  var FRACTION_KEYS = { csat: true, containment: true, handoff_rate: true, rate: true }; // 0-1 → "55.6%"
  var QUESTION_LABELS = { csat: "CSAT", nps: "NPS" };
  var QUESTION_SCALES = { csat: 5, nps: 10 };
  var CHART_COLORS = {
    bot: "#1f5eff",
    agent: "#067647",
    contained: "#84adff",
    handedOff: "#f79009",
    line: "#1f5eff",
    grid: "#eaecf0",
    text: "#475467",
  };
  var DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

  function newInsight() {
    return {
      since: null,
      until: null,
      data: null, // the last GET /api/insight
      loaded: false,
      seq: 0,
      charts: {}, // name → Chart, destroyed before each redraw
      comments: { q: "", offset: 0, total: 0, limit: 50, seq: 0 },
    };
  }

  state.insight = newInsight();

  function setupInsight() {
    Array.prototype.forEach.call(document.querySelectorAll("#insight-presets [data-days]"), function (button) {
      button.addEventListener("click", function () {
        var days = Number(button.getAttribute("data-days"));
        setInsightPeriod(daysBefore(todayUtc(), days - 1), todayUtc());
      });
    });
    ["insight-since", "insight-until"].forEach(function (id) {
      $(id).addEventListener("change", function () {
        var since = $("insight-since").value;
        var until = $("insight-until").value;
        if (DATE_PATTERN.test(since) && DATE_PATTERN.test(until)) {
          setInsightPeriod(since, until);
        }
      });
    });
    $("insight-refresh").addEventListener("click", function () {
      loadInsight();
    });
    $("insight-comments-form").addEventListener("submit", function (event) {
      event.preventDefault();
      searchComments();
    });
    $("insight-comments-search").addEventListener("search", function () {
      if (!$("insight-comments-search").value && state.insight.comments.q) {
        searchComments(); // the field's clear button (Enter is the form's submit)
      }
    });
    $("insight-comments-prev").addEventListener("click", function () {
      var comments = state.insight.comments;
      loadComments(Math.max(0, comments.offset - comments.limit));
    });
    $("insight-comments-next").addEventListener("click", function () {
      var comments = state.insight.comments;
      loadComments(comments.offset + comments.limit);
    });
  }

  /** Forget the figures of the previous session (another person may sign in on this screen). */
  function resetInsight() {
    destroyCharts();
    var seq = state.insight ? state.insight.seq + 1 : 0;
    var commentsSeq = state.insight ? state.insight.comments.seq + 1 : 0;
    state.insight = newInsight();
    state.insight.seq = seq;
    state.insight.comments.seq = commentsSeq;
    clear($("insight-tiles"));
    clear($("insight-tables"));
    clear($("insight-comments"));
    $("insight-comments-search").value = "";
    $("insight-comments-status").textContent = "";
    $("insight-comments-pager").hidden = true;
    $("insight-shown").textContent = "";
    $("insight-empty").hidden = true;
    setInsightError("");
    $("insight").hidden = true;
    $("view-insight").hidden = true;
  }

  /** The view is shown: the first time with the last 30 days; afterwards as it was left (Refresh reloads). */
  function showInsight() {
    if (!state.insight.since) {
      var until = todayUtc();
      state.insight.since = daysBefore(until, INSIGHT_DEFAULT_DAYS - 1);
      state.insight.until = until;
    }
    renderInsightPeriod();
    if (!state.insight.loaded) {
      loadInsight();
    }
  }

  function setInsightPeriod(since, until) {
    state.insight.since = since;
    state.insight.until = until;
    state.insight.comments.offset = 0;
    renderInsightPeriod();
    loadInsight();
  }

  function todayUtc() {
    return new Date().toISOString().slice(0, 10);
  }

  function daysBefore(day, days) {
    var date = new Date(day + "T00:00:00Z");
    date.setUTCDate(date.getUTCDate() - days);
    return date.toISOString().slice(0, 10);
  }

  function dayCount(since, until) {
    return Math.round((Date.parse(until + "T00:00:00Z") - Date.parse(since + "T00:00:00Z")) / 86400000) + 1;
  }

  /** A UTC day as people read it, e.g. "Mon, 3 Mar 2025" (in the browser's language). */
  function formatDay(day, short) {
    var date = new Date(day + "T00:00:00Z");
    if (isNaN(date.getTime())) {
      return String(day);
    }
    var options = short
      ? { timeZone: "UTC", day: "numeric", month: "short" }
      : { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" };
    return date.toLocaleDateString([], options);
  }

  function formatUtcTime(iso) {
    var time = parseTime(iso);
    if (time === null) {
      return "";
    }
    return (
      new Date(time).toLocaleString([], {
        timeZone: "UTC",
        day: "numeric",
        month: "short",
        year: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      }) + " UTC"
    );
  }

  function renderInsightPeriod() {
    var insight = state.insight;
    $("insight-since").value = insight.since || "";
    $("insight-until").value = insight.until || "";
    var today = todayUtc();
    Array.prototype.forEach.call(document.querySelectorAll("#insight-presets [data-days]"), function (button) {
      var days = Number(button.getAttribute("data-days"));
      var pressed = insight.until === today && insight.since === daysBefore(today, days - 1);
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
    });
    updateCsvLinks();
  }

  function periodQuery(extra) {
    var params = new URLSearchParams();
    params.set("since", state.insight.since);
    params.set("until", state.insight.until);
    Object.keys(extra || {}).forEach(function (name) {
      if (extra[name] !== "" && extra[name] !== null && extra[name] !== undefined) {
        params.set(name, String(extra[name]));
      }
    });
    return params.toString();
  }

  function csvHref(name, extra) {
    return "/api/insight/" + encodeURIComponent(name) + ".csv?" + periodQuery(extra);
  }

  /** The CSV links follow the period (and the comment search) as soon as they change. */
  function updateCsvLinks() {
    Array.prototype.forEach.call(document.querySelectorAll("#insight-tables [data-csv-table]"), function (link) {
      link.setAttribute("href", csvHref(link.getAttribute("data-csv-table")));
    });
    $("insight-comments-csv").setAttribute("href", csvHref("comments", { q: state.insight.comments.q }));
  }

  function setInsightError(message) {
    var node = $("insight-error");
    node.textContent = message || "";
    node.hidden = !message;
  }

  /** GET /api/insight for the period; the comments follow. A later request wins over an earlier one. */
  function loadInsight() {
    if (!canSeeInsight() || !state.insight.since) {
      return Promise.resolve();
    }
    var insight = state.insight;
    insight.seq += 1;
    var seq = insight.seq;
    var body = $("insight-body");
    body.setAttribute("aria-busy", "true");
    $("insight-refresh").disabled = true;
    $("insight-shown").textContent = "Loading " + describePeriod(insight.since, insight.until) + "…";
    return api("GET", "/api/insight?" + periodQuery())
      .then(function (data) {
        if (seq !== state.insight.seq || !canSeeInsight()) {
          return;
        }
        insight.data = data;
        insight.loaded = true;
        setInsightError("");
        body.hidden = false;
        var period = data.period || {};
        insight.since = period.since || insight.since;
        insight.until = period.until || insight.until;
        renderInsightPeriod();
        $("insight-shown").textContent = describePeriod(insight.since, insight.until);
        renderInsight(data);
        loadComments(insight.comments.offset);
      })
      .catch(function (error) {
        if (seq !== state.insight.seq || error.status === 401) {
          return;
        }
        insight.loaded = true; // a period the hub refuses stays shown with its reason, until it is changed
        insight.data = null;
        destroyCharts();
        body.hidden = true;
        $("insight-shown").textContent = "";
        setInsightError(
          error.status === 403
            ? "Only supervisors can see the service figures."
            : error.message || "The figures could not be loaded."
        );
      })
      .then(function () {
        if (seq === state.insight.seq) {
          body.removeAttribute("aria-busy");
          $("insight-refresh").disabled = false;
        }
      });
  }

  function describePeriod(since, until) {
    var days = dayCount(since, until);
    return formatDay(since) + " – " + formatDay(until) + " · " + days + (days === 1 ? " day" : " days") + " · UTC";
  }

  function tableNamed(data, name) {
    var tables = Array.isArray(data.tables) ? data.tables : [];
    for (var i = 0; i < tables.length; i += 1) {
      if (tables[i] && tables[i].name === name) {
        return tables[i];
      }
    }
    return { name: name, title: name, columns: [], rows: [] };
  }

  function renderInsight(data) {
    var satisfaction = tableNamed(data, "satisfaction").rows || [];
    var containment = (tableNamed(data, "containment").rows || [])[0] || {};
    var ratings = satisfaction.reduce(function (sum, row) {
      return sum + (Number(row.ratings) || 0);
    }, 0);
    var conversations = Number(containment.conversations) || 0;
    var empty = $("insight-empty");
    empty.textContent =
      !conversations && !ratings ? "Nothing in this period: no conversations and no ratings. Try a longer period." : "";
    empty.hidden = !empty.textContent;
    renderTiles(data);
    renderCharts(data);
    renderTables(data);
  }

  /* Formatting: null is "–"; every share comes with the count behind it. */

  var NONE = "–";

  function isNone(value) {
    return value === null || value === undefined || value === "" || (typeof value === "number" && isNaN(value));
  }

  function trimNumber(value, digits) {
    return String(Number(Number(value).toFixed(digits)));
  }

  function formatShare(fraction) {
    return isNone(fraction) ? NONE : trimNumber(Number(fraction) * 100, 1) + "%";
  }

  function formatCount(value) {
    return isNone(value) ? NONE : Number(value).toLocaleString();
  }

  function formatAverage(value) {
    return isNone(value) ? NONE : trimNumber(value, 2);
  }

  function formatNps(value) {
    if (isNone(value)) {
      return NONE;
    }
    var number = Number(trimNumber(value, 1));
    return (number > 0 ? "+" : "") + String(number);
  }

  /** Seconds as people say them: "45 s", "2 min 5 s", "3 h 10 min", "2 d 4 h". */
  function formatSeconds(value) {
    if (isNone(value)) {
      return NONE;
    }
    var seconds = Number(value);
    if (seconds < 10) {
      return trimNumber(seconds, 1) + " s";
    }
    var total = Math.round(seconds);
    if (total < 60) {
      return total + " s";
    }
    var minutes = Math.floor(total / 60);
    if (minutes < 60) {
      return minutes + " min" + (total % 60 ? " " + (total % 60) + " s" : "");
    }
    var hours = Math.floor(minutes / 60);
    if (hours < 24) {
      return hours + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
    }
    return Math.floor(hours / 24) + " d" + (hours % 24 ? " " + (hours % 24) + " h" : "");
  }

  function plural(count, one, many) {
    return formatCount(count) + " " + (Number(count) === 1 ? one : many);
  }

  function isSecondsKey(key) {
    return /_seconds$/.test(key);
  }

  function formatCell(key, value) {
    if (isNone(value)) {
      return NONE;
    }
    if (FRACTION_KEYS[key]) {
      return formatShare(value);
    }
    if (isSecondsKey(key)) {
      return formatSeconds(value);
    }
    if (key === "nps") {
      return formatNps(value);
    }
    if (key === "average") {
      return formatAverage(value);
    }
    if (key === "at") {
      return formatUtcTime(value);
    }
    if (key === "question") {
      return QUESTION_LABELS[value] || String(value);
    }
    return typeof value === "number" ? formatCount(value) : String(value);
  }

  /* Headline tiles */

  function tile(name, label, value, detail, hint) {
    var item = el("li", { class: "tile", "data-testid": "insight-tile-" + name, title: hint || null });
    append(
      item,
      el("span", { class: "tile__label" }, label),
      el("strong", { class: "tile__value", "data-testid": "insight-tile-value" }, value),
      el("span", { class: "tile__detail muted small", "data-testid": "insight-tile-detail" }, detail)
    );
    if (value === NONE) {
      item.classList.add("tile--none");
    }
    return item;
  }

  /** The agents' rows added up: shares from the counts, the average weighted by each agent's ratings. */
  function agentsTogether(rows) {
    var sum = { ratings: 0, satisfied: 0, weighted: 0, nps_answers: 0, promoters: 0, detractors: 0 };
    rows.forEach(function (row) {
      var count = Number(row.ratings) || 0;
      sum.ratings += count;
      sum.satisfied += Number(row.satisfied) || 0;
      sum.weighted += count && !isNone(row.average) ? Number(row.average) * count : 0;
      sum.nps_answers += Number(row.nps_answers) || 0;
      sum.promoters += Number(row.promoters) || 0;
      sum.detractors += Number(row.detractors) || 0;
    });
    return {
      ratings: sum.ratings,
      satisfied: sum.satisfied,
      csat: sum.ratings ? sum.satisfied / sum.ratings : null,
      average: sum.ratings ? sum.weighted / sum.ratings : null,
      nps_answers: sum.nps_answers,
      promoters: sum.promoters,
      detractors: sum.detractors,
      nps: sum.nps_answers ? (100 * (sum.promoters - sum.detractors)) / sum.nps_answers : null,
    };
  }

  function csatTile(name, label, row) {
    var count = Number(row.ratings) || 0;
    return tile(
      name,
      label,
      formatShare(row.csat),
      count
        ? "rated 4–5 · average " + formatAverage(row.average) + " of 5 · " + plural(count, "rating", "ratings")
        : "No ratings in this period",
      "CSAT: the share of 1–5 star ratings that were 4 or 5"
    );
  }

  function npsTile(name, label, row) {
    var count = Number(row.nps_answers) || 0;
    return tile(
      name,
      label,
      formatNps(row.nps),
      count
        ? plural(row.promoters, "promoter", "promoters") + ", " + plural(row.detractors, "detractor", "detractors") +
            " · " + plural(count, "answer", "answers")
        : "No NPS answers in this period",
      "NPS: % promoters (9–10) minus % detractors (0–6), from -100 to +100"
    );
  }

  function renderTiles(data) {
    var list = clear($("insight-tiles"));
    var satisfaction = tableNamed(data, "satisfaction").rows || [];
    var bot = satisfaction.find(function (row) {
      return row.agent_id === null || row.agent_id === undefined;
    }) || { ratings: 0, nps_answers: 0 };
    var agents = agentsTogether(
      satisfaction.filter(function (row) {
        return row !== bot;
      })
    );
    var questions = Array.isArray(data.feedback_questions) ? data.feedback_questions : [];
    var showNps =
      questions.indexOf("nps") !== -1 ||
      satisfaction.some(function (row) {
        return Number(row.nps_answers) > 0;
      });
    var showCsat = questions.indexOf("csat") !== -1 || !showNps || (Number(bot.ratings) || 0) + agents.ratings > 0;
    if (showCsat) {
      append(list, csatTile("bot-csat", "Bot CSAT", bot), csatTile("agent-csat", "Agents' CSAT", agents));
    }
    if (showNps) {
      append(list, npsTile("bot-nps", "Bot NPS", bot), npsTile("agent-nps", "Agents' NPS", agents));
    }

    var containment = (tableNamed(data, "containment").rows || [])[0] || {};
    var conversations = Number(containment.conversations) || 0;
    append(
      list,
      tile(
        "containment",
        "Containment",
        formatShare(containment.containment),
        conversations
          ? formatCount(containment.contained) + " of " + plural(conversations, "conversation", "conversations") +
              " finished by the bot"
          : "No conversations in this period",
        "Conversations the bot finished without handing the customer to a person"
      ),
      tile(
        "handoff-rate",
        "Handoff rate",
        formatShare(containment.handoff_rate),
        conversations
          ? formatCount(containment.handed_off) + " of " + plural(conversations, "conversation", "conversations") +
              " handed to a person"
          : "No conversations in this period",
        "Conversations in which the customer was handed to a person"
      )
    );

    var times = tableNamed(data, "response_times").rows || [];
    var wait = times.find(function (row) {
      return row.key === "queue_wait";
    }) || {};
    var waited = Number(wait.count) || 0;
    list.appendChild(
      tile(
        "queue-wait",
        "Median queue wait",
        formatSeconds(wait.median_seconds),
        waited
          ? "90% within " + formatSeconds(wait.p90_seconds) + " · " + plural(waited, "handoff", "handoffs") + " claimed"
          : "No handoffs claimed in this period",
        "From the handoff to an agent's claim"
      )
    );
  }

  /* Charts (Chart.js, bot/static/vendor/): destroyed and drawn again for every period, so none leaks. */

  function destroyCharts() {
    var charts = state.insight ? state.insight.charts : {};
    Object.keys(charts).forEach(function (name) {
      charts[name].destroy();
      var canvas = $("insight-chart-" + name);
      if (canvas) {
        canvas.removeAttribute("data-points");
        canvas.removeAttribute("data-drawn");
      }
    });
    if (state.insight) {
      state.insight.charts = {};
    }
  }

  function chartEmpty(name, message) {
    var note = document.querySelector("[data-empty-for=" + name + "]");
    note.textContent = message || "";
    note.hidden = !message;
    $("insight-chart-" + name).parentNode.hidden = !!message;
  }

  /** Draw one chart; its canvas says how many points it drew (data-points) once it has been drawn. */
  function drawChart(name, config, points, summary) {
    var canvas = $("insight-chart-" + name);
    canvas.setAttribute("aria-label", summary);
    canvas.setAttribute("data-points", "0");
    if (!points) {
      return;
    }
    if (typeof window.Chart !== "function") {
      chartEmpty(name, "The chart could not be drawn (its script did not load); the table below has the figures.");
      return;
    }
    config.plugins = [
      {
        id: "frontlineDrawn",
        afterRender: function () {
          canvas.setAttribute("data-points", String(points));
          canvas.setAttribute("data-drawn", "true");
        },
      },
    ];
    state.insight.charts[name] = new window.Chart(canvas, config);
  }

  function chartOptions(extra) {
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced ? false : { duration: 300 },
      plugins: { legend: { labels: { boxWidth: 12, color: CHART_COLORS.text } } },
      scales: {},
    };
    Object.keys(extra || {}).forEach(function (name) {
      options[name] = extra[name];
    });
    return options;
  }

  function percentAxis() {
    return {
      min: 0,
      max: 100,
      ticks: {
        color: CHART_COLORS.text,
        callback: function (value) {
          return value + "%";
        },
      },
      grid: { color: CHART_COLORS.grid },
    };
  }

  function dayAxis(stacked) {
    return {
      stacked: stacked,
      ticks: { color: CHART_COLORS.text, maxRotation: 0, autoSkipPadding: 12 },
      grid: { display: false },
    };
  }

  function renderCharts(data) {
    destroyCharts();
    if (window.Chart && window.Chart.defaults) {
      window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      window.Chart.defaults.color = CHART_COLORS.text;
    }
    var daily = tableNamed(data, "daily").rows || [];
    var labels = daily.map(function (row) {
      return formatDay(row.day, true);
    });

    // CSAT by day (a line; days without ratings are skipped over, not drawn as 0%).
    var csatPoints = daily.filter(function (row) {
      return !isNone(row.csat);
    }).length;
    chartEmpty("csat", csatPoints ? "" : "No ratings in this period.");
    drawChart(
      "csat",
      {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            {
              label: "CSAT (rated 4–5)",
              data: daily.map(function (row) {
                return isNone(row.csat) ? null : Math.round(Number(row.csat) * 1000) / 10;
              }),
              borderColor: CHART_COLORS.line,
              backgroundColor: CHART_COLORS.line,
              pointRadius: daily.length > 60 ? 1 : 3,
              spanGaps: true,
              cubicInterpolationMode: "monotone", // no curve overshooting 0% or 100%
            },
          ],
        },
        options: chartOptions({
          scales: { y: percentAxis(), x: dayAxis(false) },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (context) {
                  var row = daily[context.dataIndex] || {};
                  return "CSAT " + formatShare(row.csat) + " · " + plural(row.ratings, "rating", "ratings") +
                    " · average " + formatAverage(row.average);
                },
              },
            },
          },
        }),
      },
      csatPoints,
      "CSAT by day: " + csatPoints + " of " + daily.length + " days had ratings. The By day table has the figures."
    );

    // Conversations by day, split into finished by the bot and handed to a person.
    var busyDays = daily.filter(function (row) {
      return Number(row.conversations) > 0;
    }).length;
    chartEmpty("handoffs", busyDays ? "" : "No conversations in this period.");
    drawChart(
      "handoffs",
      {
        type: "bar",
        data: {
          labels: labels,
          datasets: [
            {
              label: "Finished by the bot",
              data: daily.map(function (row) {
                return Math.max(0, (Number(row.conversations) || 0) - (Number(row.handed_off) || 0));
              }),
              backgroundColor: CHART_COLORS.contained,
              stack: "conversations",
            },
            {
              label: "Handed to a person",
              data: daily.map(function (row) {
                return Number(row.handed_off) || 0;
              }),
              backgroundColor: CHART_COLORS.handedOff,
              stack: "conversations",
            },
          ],
        },
        options: chartOptions({
          scales: {
            x: dayAxis(true),
            y: {
              stacked: true,
              beginAtZero: true,
              ticks: { precision: 0, color: CHART_COLORS.text },
              grid: { color: CHART_COLORS.grid },
            },
          },
          plugins: {
            legend: { position: "bottom", labels: { boxWidth: 12 } },
            tooltip: {
              callbacks: {
                footer: function (items) {
                  var row = daily[items[0] ? items[0].dataIndex : 0] || {};
                  return plural(row.conversations, "conversation", "conversations") + " · handoff rate " +
                    formatShare(row.handoff_rate);
                },
              },
            },
          },
        }),
      },
      busyDays,
      "Conversations by day, finished by the bot or handed to a person: " + busyDays + " of " + daily.length +
        " days had conversations. The By day table has the figures."
    );

    // CSAT of the bot and of each agent with ratings.
    var rated = (tableNamed(data, "satisfaction").rows || []).filter(function (row) {
      return Number(row.ratings) > 0;
    });
    chartEmpty("agents", rated.length ? "" : "No ratings in this period.");
    drawChart(
      "agents",
      {
        type: "bar",
        data: {
          labels: rated.map(function (row) {
            var name = String(row.credited_to || "");
            return (name.length > 22 ? name.slice(0, 21) + "…" : name) + " (" + formatCount(row.ratings) + ")";
          }),
          datasets: [
            {
              label: "CSAT (rated 4–5)",
              data: rated.map(function (row) {
                return Math.round(Number(row.csat) * 1000) / 10;
              }),
              backgroundColor: rated.map(function (row) {
                return isNone(row.agent_id) ? CHART_COLORS.bot : CHART_COLORS.agent;
              }),
              maxBarThickness: 28,
            },
          ],
        },
        options: chartOptions({
          indexAxis: "y",
          scales: { x: percentAxis(), y: { ticks: { color: CHART_COLORS.text }, grid: { display: false } } },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (context) {
                  var row = rated[context.dataIndex] || {};
                  return "CSAT " + formatShare(row.csat) + " · average " + formatAverage(row.average) + " · " +
                    plural(row.ratings, "rating", "ratings");
                },
              },
            },
          },
        }),
      },
      rated.length,
      "CSAT of " + rated.map(function (row) {
        return row.credited_to + " " + formatShare(row.csat) + " of " + plural(row.ratings, "rating", "ratings");
      }).join("; ") + "."
    );
    // The chart areas are sized by the page: keep them in step when the window changes (Chart.js listens too).
  }

  /* Tables: each drawn from the hub's columns and rows, with its CSV download. */

  var TABLE_EMPTY = {
    satisfaction: "No ratings in this period.",
    handoff_reasons: "No handoffs in this period.",
    handoff_intents: "No customer needs recorded in this period.",
    agents: "No agents.",
  };

  /** Small tables two by two, big ones (many columns or rows) across the page; none left alone on a row. */
  function renderTables(data) {
    var box = clear($("insight-tables"));
    var run = [];
    function endRun() {
      if (run.length % 2) {
        run[run.length - 1].classList.add("insight-table-card--wide");
      }
      run = [];
    }
    (Array.isArray(data.tables) ? data.tables : []).forEach(function (table) {
      if (!table || !table.name) {
        return;
      }
      var columns = Array.isArray(table.columns) ? table.columns.length : 0;
      var rows = Array.isArray(table.rows) ? table.rows.length : 0;
      var card = insightTable(table);
      if (columns > 5 || rows > 12) {
        endRun();
        card.classList.add("insight-table-card--wide");
      } else {
        run.push(card);
      }
      box.appendChild(card);
    });
    endRun();
  }

  function cellHint(key, value) {
    if (isSecondsKey(key) && !isNone(value)) {
      return String(value) + " s";
    }
    return key === "reason" ? REASON_LABELS[value] || null : null;
  }

  function insightTable(table) {
    var columns = Array.isArray(table.columns) ? table.columns : [];
    var rows = Array.isArray(table.rows) ? table.rows : [];
    var titleId = "insight-table-title-" + table.name;
    var card = el("section", {
      class: "card insight-table-card",
      "aria-labelledby": titleId,
      "data-table": table.name,
    });
    var head = el("header", { class: "insight-table-card__header" });
    var link = el(
      "a",
      {
        class: "insight-csv",
        href: csvHref(table.name),
        download: true,
        "data-csv-table": table.name,
        "data-testid": "insight-csv-" + table.name,
        "aria-describedby": titleId,
      },
      "Download CSV"
    );
    append(head, el("h2", { class: "card__title", id: titleId }, table.title || table.name), link);
    card.appendChild(head);

    var numeric = {};
    columns.forEach(function (column) {
      numeric[column.key] = rows.some(function (row) {
        return typeof row[column.key] === "number";
      });
    });
    var wrap = el("div", { class: "insight-table-wrap", tabindex: 0, "aria-labelledby": titleId, role: "region" });
    var element = el("table", { class: "table insight-table", "data-testid": "insight-table-" + table.name });
    var headRow = el("tr");
    columns.forEach(function (column) {
      // The hub labels time columns "(s)"; the page writes times out ("2 min 5 s"), so the unit goes.
      var label = isSecondsKey(column.key) ? String(column.label).replace(/\s*\(s\)$/, "") : column.label;
      headRow.appendChild(el("th", { scope: "col", class: numeric[column.key] ? "num" : null, "data-key": column.key }, label));
    });
    append(element, append(el("thead"), headRow));
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr");
      columns.forEach(function (column, index) {
        var value = row[column.key];
        var header = index === 0 && !numeric[column.key]; // the row's name (a day, an agent, a reason...)
        var cell = el(
          header ? "th" : "td",
          {
            scope: header ? "row" : null,
            class: numeric[column.key] ? "num" : null,
            "data-key": column.key,
            "data-value": isNone(value) ? "" : String(value),
            title: cellHint(column.key, value),
          },
          formatCell(column.key, value)
        );
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    if (!rows.length) {
      var empty = el("tr", { class: "insight-table__empty" });
      empty.appendChild(el("td", { colspan: Math.max(1, columns.length) }, TABLE_EMPTY[table.name] || "Nothing in this period."));
      body.appendChild(empty);
    }
    element.appendChild(body);
    wrap.appendChild(element);
    card.appendChild(wrap);
    return card;
  }

  /* Comments: customers' words, hostile or not, go in as text; each links to its conversation. */

  function searchComments() {
    var q = $("insight-comments-search").value.trim();
    state.insight.comments.q = q;
    updateCsvLinks();
    loadComments(0);
  }

  function loadComments(offset) {
    var insight = state.insight;
    if (!canSeeInsight() || !insight.since) {
      return Promise.resolve();
    }
    var comments = insight.comments;
    comments.seq += 1;
    var seq = comments.seq;
    var list = $("insight-comments");
    list.setAttribute("aria-busy", "true");
    var path = "/api/insight/comments?" + periodQuery({ q: comments.q, offset: offset || 0 });
    return api("GET", path)
      .then(function (data) {
        if (seq !== state.insight.comments.seq || !canSeeInsight()) {
          return;
        }
        comments.offset = Number(data.offset) || 0;
        comments.total = Number(data.total) || 0;
        comments.limit = Number(data.limit) || 50;
        var rows = data.table && Array.isArray(data.table.rows) ? data.table.rows : [];
        renderComments(rows);
      })
      .catch(function (error) {
        if (seq !== state.insight.comments.seq || error.status === 401) {
          return;
        }
        clear(list);
        $("insight-comments-pager").hidden = true;
        var status = $("insight-comments-status");
        status.textContent = error.message || "The comments could not be loaded.";
        status.className = "action-error insight-comments__status";
      })
      .then(function () {
        if (seq === state.insight.comments.seq) {
          list.removeAttribute("aria-busy");
        }
      });
  }

  function renderComments(rows) {
    var comments = state.insight.comments;
    var list = clear($("insight-comments"));
    var status = $("insight-comments-status");
    status.className = "muted small insight-comments__status";
    if (!comments.total) {
      status.textContent = comments.q
        ? "No comments with “" + comments.q + "” in this period."
        : "No comments in this period: customers left ratings without words, or no ratings.";
    } else {
      status.textContent =
        plural(comments.total, "comment", "comments") + (comments.q ? " with “" + comments.q + "”" : "") +
        ", newest first.";
    }
    rows.forEach(function (row) {
      list.appendChild(commentItem(row));
    });
    var first = comments.total ? comments.offset + 1 : 0;
    var last = comments.offset + rows.length;
    $("insight-comments-range").textContent = first + "–" + last + " of " + formatCount(comments.total);
    $("insight-comments-prev").disabled = comments.offset <= 0;
    $("insight-comments-next").disabled = last >= comments.total;
    $("insight-comments-pager").hidden = comments.total <= comments.limit && comments.offset === 0;
  }

  function commentItem(row) {
    var scale = QUESTION_SCALES[row.question] || 5;
    var score = Number(row.score);
    var tone = score >= (scale === 10 ? 9 : 4) ? "good" : score <= (scale === 10 ? 6 : 2) ? "bad" : "middling";
    var textId = "insight-comment-" + String(row.question) + "-" + String(row.conversation_id) + "-" + String(row.at);
    var item = el("li", {
      class: "comment",
      "data-testid": "insight-comment",
      "data-conversation-id": row.conversation_id,
      "data-question": row.question,
      "data-score": row.score,
    });
    var top = el("div", { class: "comment__top" });
    append(
      top,
      el(
        "span",
        {
          class: "score score--" + tone,
          "data-testid": "insight-comment-score",
          title: (QUESTION_LABELS[row.question] || "") + " score",
        },
        String(row.score) + "/" + scale
      ),
      el("span", { class: "badge", "data-testid": "insight-comment-question" }, formatCell("question", row.question)),
      el("span", { class: "comment__who", "data-testid": "insight-comment-credited" }, "Credited to " + (row.credited_to || "Bot")),
      el("span", { class: "muted small" }, "via " + (row.channel || "web")),
      el("time", { class: "comment__when muted small", datetime: row.at, "data-testid": "insight-comment-at" },
        formatUtcTime(row.at))
    );
    var text = el("blockquote", { class: "comment__text", id: textId, "data-testid": "insight-comment-text" }, row.comment);
    var link = conversationLink(row.conversation_id, textId, "comment__link", "insight-comment-open");
    append(item, top, text, link);
    return item;
  }

  /* ----------------------------------------------------------------- start */

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", boot);
  } else {
    boot();
  }
})();
