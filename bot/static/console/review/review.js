/*
 * The trainers' (and supervisors') review inbox (bot/review_api.py): customer messages the bot was unsure
 * about, by status, to label with an intent or dismiss; the export to the training data; the model reload.
 */

import { api } from "../api.js";
import { $, clear, el } from "../dom.js";
import { canReview } from "../session.js";
import { announce } from "./announce.js";
import { exportReviewed } from "./export.js";
import { reviewItem } from "./item.js";
import { checkReload, reloadModel, resetModelReload } from "./model-reload.js";

var REVIEW_EMPTY = {
  open: "Nothing to review: the bot has been sure of everything customers said since the last look.",
  labelled: "No labelled messages yet.",
  dismissed: "No dismissed messages.",
};

var status = "open";
var items = [];
var counts = null; // per status, from the hub; null before the first answer
var intents = []; // the domain's intents, for the picker
var seq = 0; // a later request wins over an earlier one

// What an item needs of the inbox (see item.js); openConversation comes from the shell.
var inbox = {
  knownIntent: function (name) {
    return intents.indexOf(name) !== -1;
  },
  reviewed: reviewed,
  openConversation: function () {},
};

/** Once, when the page loads; `openConversation(id)` shows an item's conversation in the workspace. */
export function setupReview(openConversation) {
  inbox.openConversation = openConversation;
  Array.prototype.forEach.call(document.querySelectorAll("#review-statuses [data-status]"), function (option) {
    option.addEventListener("click", function () {
      loadReview(option.getAttribute("data-status"));
    });
  });
  $("review-refresh").addEventListener("click", function () {
    var button = $("review-refresh");
    button.disabled = true;
    loadReview(status).then(function () {
      button.disabled = false;
    });
  });
  $("review-export").addEventListener("click", exportReviewed);
  $("model-reload").addEventListener("click", reloadModel);
}

/** The view is shown: the current status again, and whether a model reload is under way. */
export function showReview() {
  loadReview(status);
  checkReload();
}

/** Forget the inbox of the previous session (another person may sign in on this screen). */
export function resetReview() {
  resetModelReload();
  status = "open";
  items = [];
  counts = null;
  intents = [];
  seq += 1;
  clear($("review-list"));
  clear($("review-results"));
  clear($("review-intents"));
  announce("");
  setReviewMessage("");
  renderReviewCounts();
  renderReviewStatuses();
}

/** GET /api/review for one status; the hub takes in what is new from Rasa's tracker store first. */
function loadReview(wanted) {
  if (!canReview()) {
    return Promise.resolve();
  }
  seq += 1;
  var mySeq = seq;
  var changed = wanted !== status;
  status = wanted;
  renderReviewStatuses();
  var list = $("review-list");
  list.setAttribute("aria-busy", "true");
  if (changed || counts === null) {
    clear(list);
    setReviewMessage("Loading…");
  }
  return api("GET", "/api/review?status=" + encodeURIComponent(wanted))
    .then(function (data) {
      if (mySeq !== seq || !canReview()) {
        return; // another status was asked for meanwhile, or the session ended
      }
      items = Array.isArray(data.items) ? data.items : [];
      counts = data.counts && typeof data.counts === "object" ? data.counts : {};
      intents = Array.isArray(data.intents) ? data.intents : [];
      fillIntents();
      renderReview();
    })
    .catch(function (error) {
      if (mySeq !== seq || error.status === 401) {
        return;
      }
      clear(list);
      setReviewMessage(error.message || "The review inbox could not be loaded.", true);
    })
    .then(function () {
      if (mySeq === seq) {
        list.removeAttribute("aria-busy");
      }
    });
}

function fillIntents() {
  var datalist = clear($("review-intents"));
  intents.forEach(function (name) {
    datalist.appendChild(el("option", { value: name }));
  });
}

function renderReview() {
  renderReviewCounts();
  var list = clear($("review-list"));
  items.forEach(function (item) {
    list.appendChild(reviewItem(item, inbox));
  });
  updateReviewMessage();
}

function renderReviewStatuses() {
  Array.prototype.forEach.call(document.querySelectorAll("#review-statuses [data-status]"), function (option) {
    option.setAttribute("aria-pressed", option.getAttribute("data-status") === status ? "true" : "false");
  });
}

function renderReviewCounts() {
  var shown = counts || {};
  ["open", "labelled", "dismissed"].forEach(function (name) {
    var node = document.querySelector("[data-testid=review-count-" + name + "]");
    node.textContent = String(Number(shown[name]) || 0);
  });
  var open = Number(shown.open) || 0;
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
  var shown = items.length;
  var total = Number((counts || {})[status]) || 0;
  if (!shown) {
    setReviewMessage(REVIEW_EMPTY[status] || "Nothing here.");
  } else if (total > shown) {
    setReviewMessage("Showing " + shown + " of " + total + ". Review these, and the next ones come in.");
  } else {
    setReviewMessage("");
  }
}

/** An item labelled or dismissed: it leaves the list, the counts follow, and the focus goes on. */
function reviewed(item, node, newStatus) {
  var known = counts || {};
  known[item.status] = Math.max(0, (Number(known[item.status]) || 0) - 1);
  known[newStatus] = (Number(known[newStatus]) || 0) + 1;
  counts = known;
  items = items.filter(function (other) {
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
