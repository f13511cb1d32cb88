/*
 * The agents' workspace: the queue, the open conversation and its details. Started when someone signs in
 * (every role: trainers and supervisors open conversations from the review inbox and Insight), fed by the
 * live socket's events, and forgotten when they sign out.
 */

import { $ } from "../dom.js";
import { alertNew, beep, markAllSeen, resetAlerts, unlockAudio, updateAlert } from "./alerts.js";
import { loadCanned } from "./composer.js";
import {
  closeConversation,
  loadConversation,
  openConversation,
  refreshAgents,
  reloadIfCurrent,
  scheduleReload,
  stateChanged,
  stopReload,
} from "./conversation.js";
import { addNote } from "./notes.js";
import {
  customerWrote,
  initQueue,
  refreshQueue,
  renderQueue,
  resetQueue,
  scheduleQueueRefresh,
  stopQueueRefresh,
  updateWaitingTimes,
  watchAll,
} from "./queue.js";
import { currentId } from "./selection.js";
import { addTranscriptMessage, isNearBottom, scrollToBottom } from "./transcript.js";

export { openConversation };

var QUEUE_POLL_MS = 30000; // a safety net under the live events
var TICK_MS = 20000; // how often waiting times are redrawn

var pollTimer = null;
var tickTimer = null;

/** Once, when the page loads. */
export function setupWorkspace() {
  initQueue(openConversation);
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
  $("alert-count").addEventListener("click", function () {
    markAllSeen();
    updateAlert();
    renderQueue();
  });
}

/** Someone has signed in (the live socket is the shell's: it calls liveOpened and handleEvent). */
export function startWorkspace() {
  refreshQueue();
  loadCanned();
  refreshAgents();
  clearInterval(pollTimer);
  clearInterval(tickTimer);
  pollTimer = setInterval(refreshQueue, QUEUE_POLL_MS);
  tickTimer = setInterval(updateWaitingTimes, TICK_MS);
}

/** No more requests to the hub (signing out, or the session has ended). */
export function stopWorkspace() {
  clearInterval(pollTimer);
  clearInterval(tickTimer);
  stopQueueRefresh();
  stopReload();
}

/** Forget the previous session's queue, alerts and conversation (another person may sign in here). */
export function resetWorkspace() {
  resetQueue();
  resetAlerts();
  closeConversation();
  updateAlert();
}

/** The socket is (re)connected: whatever happened while we were away is fetched again, and watched. */
export function liveOpened() {
  watchAll();
  refreshQueue();
  if (currentId()) {
    loadConversation(currentId());
  }
}

export function handleEvent(event) {
  switch (event.type) {
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
      if (stateChanged(event.state)) {
        scheduleReload();
      }
      break;
    case "note":
      if (event.note && event.note.conversation_id === currentId()) {
        addNote(event.note);
      }
      break;
    case "order_action":
      scheduleReload();
      break;
    default:
      break;
  }
}

function onLiveMessage(message) {
  if (message.conversation_id === currentId()) {
    var atBottom = isNearBottom($("transcript"));
    addTranscriptMessage(message);
    if (atBottom || message.sender !== "customer") {
      scrollToBottom();
    }
    if (message.sender === "customer" && document.hidden) {
      beep();
    }
    if (message.sender === "system") {
      scheduleReload(); // a thank-you for a rating: the rating itself comes with the conversation
    }
    return;
  }
  if (message.sender === "customer") {
    customerWrote(message.conversation_id);
  }
}
