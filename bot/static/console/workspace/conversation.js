/*
 * The open conversation: header, transcript, reply box or read-only note, and the details column. Reloads
 * (live events, actions) only add what is new, so a half-typed reply or note is never lost.
 */

import { clearActionError, runAction } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { $, append, badge, clear, el } from "../dom.js";
import { formatTime } from "../format.js";
import { channelWords, priorityBadge } from "../handoff-labels.js";
import { watch } from "../live.js";
import { canHandle, currentAgent } from "../session.js";
import { markSeen, updateAlert } from "./alerts.js";
import { buildComposer, resetReply } from "./composer.js";
import { renderDetails } from "./details.js";
import { resetNotes } from "./notes.js";
import { claim, markRead, refreshQueue, renderMine, renderQueue } from "./queue.js";
import { currentId, setCurrentId } from "./selection.js";
import { buildTransfer, loadAgents } from "./transfer.js";
import {
  addTranscriptMessage,
  addTranscriptRating,
  isNearBottom,
  resetTranscript,
  scrollToBottom,
} from "./transcript.js";

var current = null; // GET /api/conversations/<id> of the open conversation
var controlsKey = null; // which reply/order controls are built, so reloads keep what the agent typed
var reloadTimer = null;

export function openConversation(id) {
  if (currentId() !== id) {
    setCurrentId(id);
    current = null;
    controlsKey = null;
    resetTranscript();
    resetNotes();
    resetReply();
    clearActionError();
    renderLoading();
  }
  markSeen(id);
  markRead(id);
  updateAlert();
  renderQueue();
  renderMine();
  watch(id);
  refreshAgents();
  return loadConversation(id);
}

export function closeConversation() {
  setCurrentId(null);
  current = null;
  controlsKey = null;
  closeChildren($("conversation"));
  $("empty-state").hidden = false;
  clear($("details")).hidden = true;
}

/** Whether `state` (bot, queued, agent, resolved) differs from the open conversation's as last loaded. */
export function stateChanged(state) {
  return !!current && state !== current.conversation.state;
}

export function scheduleReload() {
  if (!currentId() || !currentAgent()) {
    return;
  }
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(function () {
    loadConversation(currentId());
  }, 150);
}

export function stopReload() {
  clearTimeout(reloadTimer);
}

export function reloadIfCurrent(id) {
  if (id && id === currentId()) {
    scheduleReload();
  }
}

export function loadConversation(id) {
  if (!currentAgent()) {
    return Promise.resolve();
  }
  return api("GET", conversationPath(id))
    .then(function (data) {
      if (currentId() !== id) {
        return; // the agent has opened another one meanwhile
      }
      current = data;
      renderConversation(data);
    })
    .catch(function (error) {
      if (currentId() === id && !current && error.status !== 401) {
        renderLoadError(error.message);
      }
    });
}

/** The agents to transfer to (also redrawn into an untouched picker on the page). */
export function refreshAgents() {
  return loadAgents(changed);
}

/** After a transfer or resolve: the lists and the conversation as they are now. */
function changed(conversationId) {
  refreshQueue();
  loadConversation(conversationId);
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
  var kept = ":scope > :not(#empty-state):not(#workspace-title)"; // the page's own, drawn once in console.html
  Array.prototype.forEach.call(section.querySelectorAll(kept), function (node) {
    node.remove();
  });
}

function isMine(data) {
  var agent = currentAgent();
  return !!(agent && data.conversation.state === "agent" && data.conversation.assigned_agent_id === agent.id);
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
  var verified = !!(data.verification && data.verification.order_verified);
  var key = [data.conversation.id, mine, data.order ? data.order.number : "", verified, canHandle()].join("|");
  var rebuild = key !== controlsKey;
  if (rebuild) {
    closeChildren(section);
    resetTranscript();
    resetNotes();
    section.appendChild(el("header", { class: "conv-header", id: "conv-header" }));
    // Focusable, so the keyboard can scroll it; a log, so screen readers hear new messages.
    section.appendChild(
      el("div", {
        class: "transcript",
        id: "transcript",
        "data-testid": "transcript",
        role: "log",
        tabindex: 0,
        "aria-label": "Messages",
      })
    );
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
  var atBottom = isNearBottom($("transcript"));
  data.messages.forEach(addTranscriptMessage);
  (data.ratings || []).forEach(function (rating) {
    addTranscriptRating(rating, data.messages);
  });
  if (rebuild || atBottom) {
    scrollToBottom();
  }
  renderDetails(data, mine, rebuild, scheduleReload);
  controlsKey = key;
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
  // The order owner's name only once this person has proved they are the owner (the order card says so).
  var owner = data.order && data.verification && data.verification.order_verified ? data.order.customer_name : "";
  var title = el("div", { class: "conv-header__title" });
  append(
    title,
    el("h2", { "data-testid": "customer-name" }, owner || conversation.customer_name || "Customer"),
    el(
      "span",
      { class: "muted small", "data-testid": "conversation-facts" },
      (owner && conversation.customer_name ? conversation.customer_name + " · " : "") +
        channelWords(conversation.channel) + " · started " + formatTime(conversation.created_at)
    )
  );
  var meta = el("div", { class: "conv-header__meta" });
  append(
    meta,
    badge("state", conversation.state, stateLabel(conversation.state)),
    conversation.priority && conversation.state !== "bot" ? priorityBadge(conversation.priority) : null,
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
    actions.appendChild(buildTransfer(conversation.id, header, changed));
    var resolveButton = el("button", { class: "btn btn--success", type: "button", "data-testid": "resolve" }, "Resolve");
    resolveButton.addEventListener("click", function () {
      runAction(resolveButton, header, function () {
        return api("POST", conversationPath(conversation.id, "/resolve"), {});
      }).then(function (result) {
        if (result) {
          changed(conversation.id);
        }
      });
    });
    actions.appendChild(resolveButton);
  }
  append(header, title, meta, actions);
}

function stateLabel(value) {
  return { bot: "With the assistant", queued: "Waiting for a person", agent: "With an agent", resolved: "Resolved" }[value] || value;
}
