/*
 * The supervisors' Insight page (bot/insight_api.py): headline tiles, three charts, every table of the report
 * as the hub sends it (title, column labels and rows), and the comments customers left with their ratings.
 * Periods are whole UTC days, `since` and `until` both included, as the hub counts them.
 */

import { api } from "../api.js";
import { $, clear } from "../dom.js";
import { canSeeInsight } from "../session.js";
import { destroyCharts, preloadCharts, renderCharts } from "./charts.js";
import { commentsQuery, firstCommentsPage, reloadComments, resetComments, setupComments } from "./comments.js";
import { daysBefore, describePeriod, todayUtc } from "./days.js";
import { period, periodQuery, resetPeriod, setPeriod, updateCsvLinks } from "./period.js";
import { tableNamed } from "./report-table.js";
import { renderTables } from "./tables.js";
import { renderTiles } from "./tiles.js";

var INSIGHT_DEFAULT_DAYS = 30;
var DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

var loaded = false; // the period has been asked for (a refused one stays shown with its reason)
var seq = 0; // a later request wins over an earlier one

/** Once, when the page loads; `openConversation(id)` shows a comment's conversation in the workspace. */
export function setupInsight(openConversation) {
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
  setupComments(openConversation);
}

/** Forget the figures of the previous session (another person may sign in on this screen). */
export function resetInsight() {
  destroyCharts();
  seq += 1;
  loaded = false;
  resetPeriod();
  resetComments();
  clear($("insight-tiles"));
  clear($("insight-tables"));
  $("insight-shown").textContent = "";
  $("insight-empty").hidden = true;
  setInsightError("");
}

/** The view is shown: the first time with the last 30 days; afterwards as it was left (Refresh reloads). */
export function showInsight() {
  preloadCharts();
  if (!period().since) {
    var until = todayUtc();
    setPeriod(daysBefore(until, INSIGHT_DEFAULT_DAYS - 1), until);
  }
  renderInsightPeriod();
  if (!loaded) {
    loadInsight();
  }
}

function setInsightPeriod(since, until) {
  setPeriod(since, until);
  firstCommentsPage();
  renderInsightPeriod();
  loadInsight();
}

function renderInsightPeriod() {
  var shown = period();
  $("insight-since").value = shown.since || "";
  $("insight-until").value = shown.until || "";
  var today = todayUtc();
  Array.prototype.forEach.call(document.querySelectorAll("#insight-presets [data-days]"), function (button) {
    var days = Number(button.getAttribute("data-days"));
    var pressed = shown.until === today && shown.since === daysBefore(today, days - 1);
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
  });
  updateCsvLinks(commentsQuery());
}

function setInsightError(message) {
  var node = $("insight-error");
  node.textContent = message || "";
  node.hidden = !message;
}

/** GET /api/insight for the period; the comments follow. A later request wins over an earlier one. */
function loadInsight() {
  if (!canSeeInsight() || !period().since) {
    return Promise.resolve();
  }
  seq += 1;
  var mySeq = seq;
  var asked = period();
  var body = $("insight-body");
  body.setAttribute("aria-busy", "true");
  $("insight-refresh").disabled = true;
  $("insight-shown").textContent = "Loading " + describePeriod(asked.since, asked.until) + "…";
  return api("GET", "/api/insight?" + periodQuery())
    .then(function (data) {
      if (mySeq !== seq || !canSeeInsight()) {
        return;
      }
      loaded = true;
      setInsightError("");
      body.hidden = false;
      var answered = data.period || {};
      setPeriod(answered.since || asked.since, answered.until || asked.until);
      renderInsightPeriod();
      $("insight-shown").textContent = describePeriod(period().since, period().until);
      renderInsight(data);
      reloadComments();
    })
    .catch(function (error) {
      if (mySeq !== seq || error.status === 401) {
        return;
      }
      loaded = true; // a period the hub refuses stays shown with its reason, until it is changed
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
      if (mySeq === seq) {
        body.removeAttribute("aria-busy");
        $("insight-refresh").disabled = false;
      }
    });
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
