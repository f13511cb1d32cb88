/*
 * The trainers' (and supervisors') review inbox (bot/api/review.py): customer messages the bot was unsure
 * about, by status, searched, filtered and paged (newest first), to label with an intent or dismiss; the export
 * to the training data; the model reload.
 */

import { api } from "../api.js";
import { $, clear, el } from "../dom.js";
import { intentTitle } from "../intent-titles.js";
import { canReview } from "../session.js";
import { announce } from "./announce.js";
import { exportReviewed } from "./export.js";
import { fillIntentFilter, filterParams, resetFilters, setupFilters } from "./filters.js";
import { reviewItem } from "./item.js";
import { checkReload, reloadModel, resetModelReload } from "./model-reload.js";

var REVIEW_EMPTY = {
  open: "Nothing to review: the bot has been sure of everything customers said since the last look.",
  labelled: "No labelled messages yet.",
  dismissed: "No dismissed messages.",
};

var PAGE = 25; // items a page (the hub sends at most 100)

var status = "open";
var offset = 0; // of the page shown
var items = [];
var total = 0; // items of the status that pass the filters, on every page
var filtered = false; // a search or filter narrowed the list
var counts = null; // per status, of the whole inbox, from the hub; null before the first answer
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
  setupFilters(function () {
    loadReview(status, 0);
  });
  $("review-prev").addEventListener("click", function () {
    turnPage(Math.max(0, offset - PAGE));
  });
  $("review-next").addEventListener("click", function () {
    turnPage(offset + PAGE);
  });
}

/** The view is shown: the current status again, and whether a model reload is under way. */
export function showReview() {
  loadReview(status, offset);
  checkReload();
}

/** Forget the inbox of the previous session (another person may sign in on this screen). */
export function resetReview() {
  resetModelReload();
  status = "open";
  offset = 0;
  items = [];
  total = 0;
  filtered = false;
  counts = null;
  intents = [];
  seq += 1;
  resetFilters();
  clear($("review-list"));
  clear($("review-results"));
  clear($("review-intents"));
  announce("");
  setReviewMessage("");
  renderReviewCounts();
  renderReviewStatuses();
  renderPager();
}

/**
 * GET /api/review: one page of one status with the filters; the hub takes in what is new from Rasa's tracker
 * store first. Another status starts on its first page.
 */
function loadReview(wanted, wantedOffset) {
  if (!canReview()) {
    return Promise.resolve();
  }
  var asked = filterParams();
  seq += 1;
  var mySeq = seq;
  var changed = wanted !== status;
  status = wanted;
  renderReviewStatuses();
  var list = $("review-list");
  if (asked.error) {
    clear(list);
    items = [];
    total = 0;
    renderPager();
    setReviewMessage(asked.error, true);
    asked.field.focus();
    return Promise.resolve();
  }
  var params = new URLSearchParams(asked.params);
  params.set("status", wanted);
  params.set("offset", String(changed ? 0 : wantedOffset || 0));
  params.set("limit", String(PAGE));
  list.setAttribute("aria-busy", "true");
  if (changed || counts === null) {
    clear(list);
    setReviewMessage("Loading…");
  }
  return api("GET", "/api/review?" + params.toString())
    .then(function (data) {
      if (mySeq !== seq || !canReview()) {
        return; // another status was asked for meanwhile, or the session ended
      }
      items = Array.isArray(data.items) ? data.items : [];
      total = Number(data.total) || 0;
      offset = Number(data.offset) || 0;
      filtered = Object.keys(asked.params).length > 0;
      counts = data.counts && typeof data.counts === "object" ? data.counts : {};
      intents = Array.isArray(data.intents) ? data.intents : [];
      if (!items.length && total && offset && offset !== lastPage()) {
        return loadReview(status, lastPage()); // the page asked for is past the end now
      }
      fillIntents();
      renderReview();
    })
    .catch(function (error) {
      if (mySeq !== seq || error.status === 401) {
        return;
      }
      clear(list);
      items = [];
      total = 0;
      renderPager();
      setReviewMessage(error.message || "The review inbox could not be loaded.", true);
    })
    .then(function () {
      if (mySeq === seq) {
        list.removeAttribute("aria-busy");
      }
    });
}

/** Previous or Next: the new page from its top, the list focused so that a screen reader starts there. */
function turnPage(wanted) {
  loadReview(status, wanted).then(function () {
    var list = $("review-list");
    list.setAttribute("tabindex", "-1");
    list.focus({ preventScroll: true });
    $("review-filters").scrollIntoView({ block: "start" });
  });
}

function lastPage() {
  return Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
}

function fillIntents() {
  var datalist = clear($("review-intents"));
  intents.forEach(function (name) {
    datalist.appendChild(el("option", { value: name, label: intentTitle(name) }));
  });
  fillIntentFilter(intents);
}

function renderReview() {
  renderReviewCounts();
  var list = clear($("review-list"));
  items.forEach(function (item) {
    list.appendChild(reviewItem(item, inbox));
  });
  updateReviewMessage();
  renderPager();
}

/** "26–50 of 130" with Previous and Next, when there is more than one page. */
function renderPager() {
  var first = total ? offset + 1 : 0;
  var last = offset + items.length;
  $("review-range").textContent = first + "–" + last + " of " + total;
  $("review-prev").disabled = offset <= 0;
  $("review-next").disabled = last >= total;
  $("review-pager").hidden = total <= PAGE && offset === 0;
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
    node.removeAttribute("aria-live");
  } else {
    node.removeAttribute("role");
    node.setAttribute("aria-live", "polite"); // how many match, read out after a search
  }
}

/** The empty inbox, nothing that matches, or how many of the status match the filters. */
function updateReviewMessage() {
  var all = Number((counts || {})[status]) || 0;
  if (!items.length && !total) {
    setReviewMessage(
      filtered ? "Nothing matches these filters. Clear them to see every message." : REVIEW_EMPTY[status] || "Nothing here."
    );
  } else if (filtered) {
    setReviewMessage(total + " of the " + all + " " + status + " messages match, newest first.");
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
  total = Math.max(0, total - 1);
  // Keyboard users go on with the next item (or the previous one, or the inbox's title).
  var next = node.nextElementSibling || node.previousElementSibling;
  var hadFocus = node.contains(document.activeElement);
  node.remove();
  renderReviewCounts();
  updateReviewMessage();
  renderPager();
  if (!items.length && total) {
    loadReview(status, Math.min(offset, lastPage())); // the page is done: the next ones come in
  }
  if (hadFocus || document.activeElement === document.body) {
    var target =
      next &&
      (next.querySelector("[data-testid=review-intent]") ||
        next.querySelector("[data-testid=review-needs-person]") ||
        next.querySelector("a"));
    (target || $("review-title")).focus();
  }
}
