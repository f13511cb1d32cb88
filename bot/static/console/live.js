/*
 * The live socket /ws/agent, for every signed-in role (an open console socket is what makes an agent online),
 * and the "Live" light in the top bar. It reconnects with back-off; the workspace gets the events.
 */

import { $ } from "./dom.js";
import { currentAgent } from "./session.js";

var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

var ws = null;
var attempt = 0;
var timer = null;
var watched = new Set(); // conversations this socket gets events for
var handlers = { opened: function () {}, event: function () {}, sessionEnded: function () {} };

/**
 * Connect (if not already). `opened()` runs on each (re)connection, once the hub has said hello, `event(data)` for
 * each event but the hub's hello, `sessionEnded(message)` when the hub says the session is over.
 */
export function startLive(callbacks) {
  handlers = callbacks;
  connect();
}

export function stopLive() {
  clearTimeout(timer);
  timer = null;
  var socket = ws;
  ws = null;
  if (socket) {
    socket.close();
  }
}

/** Ask for one conversation's events (messages, state, notes, order actions). */
export function watch(id) {
  if (!id || watched.has(id) || !ws || ws.readyState !== 1) {
    return;
  }
  ws.send(JSON.stringify({ type: "watch", conversation_id: id }));
  watched.add(id);
}

function connect() {
  if (!currentAgent() || (ws && ws.readyState <= 1)) {
    return;
  }
  clearTimeout(timer);
  timer = null;
  var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  var socket = new WebSocket(scheme + "//" + window.location.host + "/ws/agent");
  ws = socket;
  watched = new Set();
  setLive("connecting");
  socket.addEventListener("message", function (event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (data && typeof data === "object") {
      handle(data);
    }
  });
  socket.addEventListener("close", function (event) {
    if (ws !== socket) {
      return;
    }
    ws = null;
    if (event.code === 4401) {
      handlers.sessionEnded("Your session has ended. Please sign in again.");
      return;
    }
    if (currentAgent()) {
      scheduleReconnect();
    }
  });
}

/** 1 s, 2 s, 4 s… at most 15 s between tries; reset when the hub says hello. */
function scheduleReconnect() {
  setLive("reconnecting");
  var delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  attempt += 1;
  clearTimeout(timer);
  timer = setTimeout(connect, delay);
}

function setLive(mode) {
  var live = $("live");
  live.setAttribute("data-live", mode);
  live.textContent = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…" }[mode] || mode;
}

function handle(event) {
  if (event.type === "hello") {
    attempt = 0;
    setLive("live");
    // The hub counts this console online once it says hello: fetch what happened while we were away (the queue
    // then counts us too), and ask for the live events once more.
    handlers.opened();
  } else if (event.type === "error") {
    if (event.code === "unauthenticated") {
      handlers.sessionEnded("Your session has ended. Please sign in again.");
    }
  } else {
    handlers.event(event);
  }
}
