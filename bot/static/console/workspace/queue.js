/* The queue panel: who is waiting, my conversations, and claiming one. */

import { runAction } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { $, append, clear, el } from "../dom.js";
import { formatTime, waitedFor } from "../format.js";
import { channelWords, priorityBadge, reasonBadge } from "../handoff-labels.js";
import { watch } from "../live.js";
import { canHandle, currentAgent } from "../session.js";
import { alertNew, beep, isUnseen, keepOnly, markKnown, markSeen, updateAlert } from "./alerts.js";
import { currentId } from "./selection.js";

var queue = { waiting: [], mine: [], agents_online: 0 };
var knownWaiting = null; // waiting ids at the last refresh; null before the first
var unreadMine = new Set(); // my conversations with customer messages I have not opened
var refreshTimer = null;
var open = function () {};

/** How a conversation in the lists is opened (the workspace's openConversation). */
export function initQueue(openConversation) {
  open = openConversation;
}

export function resetQueue() {
  queue = { waiting: [], mine: [], agents_online: 0 };
  knownWaiting = null;
  unreadMine.clear();
}

export function stopQueueRefresh() {
  clearTimeout(refreshTimer);
}

// Several events often come together (claimed + state + queue announcements): fetch once for all.
export function scheduleQueueRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshQueue, 120);
}

export function refreshQueue() {
  if (!currentAgent()) {
    return Promise.resolve();
  }
  return api("GET", "/api/queue")
    .then(function (data) {
      queue = {
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

/** The open conversation and all of mine, so new customer messages can be flagged. */
export function watchAll() {
  watch(currentId());
  queue.mine.forEach(function (conversation) {
    watch(conversation.id);
  });
}

/** A customer wrote in a conversation that is not open: flagged if it is one of mine. */
export function customerWrote(conversationId) {
  var mine = queue.mine.some(function (c) {
    return c.id === conversationId;
  });
  if (mine) {
    unreadMine.add(conversationId);
    renderMine();
    beep();
  }
}

export function markRead(conversationId) {
  unreadMine.delete(conversationId);
}

/** New waiting conversations alert (also those missed while the socket was down); gone ones stop counting. */
function noticeQueueChanges() {
  var ids = new Set(
    queue.waiting.map(function (c) {
      return c.id;
    })
  );
  if (knownWaiting !== null) {
    ids.forEach(function (id) {
      if (!knownWaiting.has(id)) {
        alertNew(id);
      }
    });
  } else {
    ids.forEach(markKnown);
  }
  keepOnly(ids);
  var mineIds = new Set(
    queue.mine.map(function (c) {
      return c.id;
    })
  );
  Array.from(unreadMine).forEach(function (id) {
    if (!mineIds.has(id)) {
      unreadMine.delete(id);
    }
  });
  knownWaiting = ids;
  updateAlert();
}

export function renderQueue() {
  var list = clear($("queue"));
  var waiting = queue.waiting;
  showWaitingCount(waiting.length);
  var online = queue.agents_online;
  $("agents-online").textContent = online === 1 ? "1 agent online" : online + " agents online";
  if (!waiting.length) {
    list.appendChild(el("li", { class: "conv-list__empty" }, "Nobody is waiting."));
    return;
  }
  waiting.forEach(function (conversation) {
    list.appendChild(queueItem(conversation));
  });
}

/** "3 customers waiting for a person": the panel's count and the Queue tab's, both saying what they count. */
function showWaitingCount(count) {
  var words = count === 1 ? "1 customer waiting for a person" : count + " customers waiting for a person";
  var panelCount = $("waiting-count");
  panelCount.textContent = String(count);
  panelCount.title = words;
  $("waiting-title").setAttribute("aria-label", "Waiting for a person: " + count);
  var tabCount = $("queue-tab-count");
  clear(tabCount).hidden = count === 0;
  append(tabCount, String(count), el("span", { class: "visually-hidden" }, " waiting for a person"));
  tabCount.title = words;
}

function queueItem(conversation) {
  var item = el("li", {
    class: "conv-item" + (conversation.id === currentId() ? " is-current" : ""),
    "data-testid": "queue-item",
    "data-conversation-id": conversation.id,
    "data-priority": conversation.priority || "normal",
  });
  if (isUnseen(conversation.id)) {
    item.classList.add("is-new");
  }
  var top = el("div", { class: "conv-item__top" });
  append(
    top,
    priorityBadge(conversation.priority),
    conversation.reason ? reasonBadge(conversation.reason) : null,
    el("span", { class: "conv-item__wait", "data-since": conversation.queued_at, title: "Waiting since " + formatTime(conversation.queued_at) },
      waitedFor(conversation.queued_at))
  );
  item.appendChild(top);
  item.appendChild(openButton(conversation));

  var bottom = el("div", { class: "conv-item__bottom" });
  var where = (conversation.customer_name ? conversation.customer_name + " · " : "") + channelWords(conversation.channel);
  if (conversation.queue && typeof conversation.queue.position === "number") {
    where += " · " + ordinal(conversation.queue.position) + " in line";
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
    open(conversation.id);
  });
  return item;
}

/** The summary is the item's button (keyboard and screen readers); a click anywhere on the item opens it too. */
function openButton(conversation) {
  var button = el("button", { class: "conv-item__open", type: "button", "aria-current": conversation.id === currentId() ? "true" : null });
  button.appendChild(el("span", { class: "conv-item__summary" }, conversation.summary || "No summary."));
  return button;
}

function ordinal(position) {
  var tens = position % 100;
  var suffix = tens >= 11 && tens <= 13 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[position % 10] || "th";
  return position + suffix;
}

export function renderMine() {
  var list = clear($("mine"));
  var mine = queue.mine;
  $("mine-count").textContent = String(mine.length);
  $("mine-title").setAttribute("aria-label", "My conversations: " + mine.length);
  if (!mine.length) {
    list.appendChild(el("li", { class: "conv-list__empty" }, "No conversations assigned to you."));
    return;
  }
  mine.forEach(function (conversation) {
    var item = el("li", {
      class: "conv-item conv-item--mine" + (conversation.id === currentId() ? " is-current" : ""),
      "data-testid": "mine-item",
      "data-conversation-id": conversation.id,
    });
    var top = el("div", { class: "conv-item__top" });
    append(
      top,
      priorityBadge(conversation.priority),
      unreadMine.has(conversation.id) ? el("span", { class: "badge badge--unread" }, "New message") : null,
      el("span", { class: "conv-item__wait" }, formatTime(conversation.updated_at))
    );
    item.appendChild(top);
    item.appendChild(openButton(conversation));
    item.addEventListener("click", function () {
      open(conversation.id);
    });
    list.appendChild(item);
  });
}

export function updateWaitingTimes() {
  Array.prototype.forEach.call(document.querySelectorAll("[data-since]"), function (node) {
    node.textContent = waitedFor(node.getAttribute("data-since"));
  });
}

export function claim(id, button, anchor) {
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
      markSeen(id);
      updateAlert();
      refreshQueue();
      open(id);
    }
  });
}
