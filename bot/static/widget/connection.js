/*
 * The WebSocket to the hub (/ws/customer, protocol in bot/channels/web.py). The first frame is `hello`; other
 * frames may only go once the hub has answered `welcome`. A dropped connection is retried after 1 s, 2 s,
 * 4 s… at most 15 s; the count starts again once a welcome arrives.
 */

var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

var url = null;
var ws = null;
var welcomed = false;
var everWelcomed = false;
var attempt = 0;
var retryTimer = null;
var handlers = {
  hello: function () {
    return { type: "hello" };
  },
  frame: function () {},
  closed: function () {},
  retrying: function () {},
};

/**
 * Where to connect and what to do: `hello()` makes the first frame, `frame(data)` gets each frame from the hub,
 * `closed()` runs when a connection drops, `retrying(afterDrop)` when a new attempt is scheduled.
 */
export function configureConnection(socketUrl, callbacks) {
  url = socketUrl;
  handlers = callbacks;
}

export function connect() {
  if (ws && ws.readyState <= 1) {
    return; // connecting or open
  }
  clearTimeout(retryTimer);
  retryTimer = null;
  var socket;
  try {
    socket = new WebSocket(url);
  } catch (e) {
    scheduleRetry();
    return;
  }
  ws = socket;
  welcomed = false;
  socket.addEventListener("open", function () {
    socket.send(JSON.stringify(handlers.hello()));
  });
  socket.addEventListener("message", function (event) {
    var frame;
    try {
      frame = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (frame && typeof frame === "object") {
      handlers.frame(frame);
    }
  });
  socket.addEventListener("close", function () {
    if (ws !== socket) {
      return;
    }
    ws = null;
    welcomed = false;
    handlers.closed();
    scheduleRetry();
  });
}

/** The hub has welcomed us: other frames may go now. */
export function markWelcomed() {
  welcomed = true;
  everWelcomed = true;
  attempt = 0;
}

export function wasEverWelcomed() {
  return everWelcomed;
}

/** Is a connection open or being opened? */
export function isConnecting() {
  return ws !== null;
}

/** Send a frame if the hub has welcomed us; false when it could not go (offline, still connecting). */
export function sendFrame(frame) {
  if (!ws || ws.readyState !== 1 || !welcomed) {
    return false;
  }
  ws.send(JSON.stringify(frame));
  return true;
}

/** Close this connection and open a new one at once (a different conversation must start with a new hello). */
export function restart() {
  var socket = ws;
  if (socket) {
    socket.close(); // its close handler schedules the next attempt
  }
}

/** Coming back online or to the tab should not wait for the rest of a long backoff. */
export function reconnectNow() {
  if (retryTimer) {
    clearTimeout(retryTimer);
    retryTimer = null;
    connect();
  }
}

function scheduleRetry() {
  if (retryTimer) {
    return;
  }
  var delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  attempt += 1;
  handlers.retrying(everWelcomed || attempt > 1);
  retryTimer = setTimeout(function () {
    retryTimer = null;
    connect();
  }, delay);
}
