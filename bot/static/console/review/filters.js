/*
 * The inbox's search and filters, as GET /api/review takes them: `q` (words of the message), `reason` or `kind`,
 * `intent` (the bot's guess or the label), `min_confidence` and `max_confidence` (0-1; people type percentages)
 * and `since` / `until` (UTC days). The hub checks every value again and says what is wrong with one.
 */

import { $, append, clear, el } from "../dom.js";
import { intentTitle } from "../intent-titles.js";
import { REVIEW_KINDS, REVIEW_REASONS } from "./reasons.js";

var CHANGING = ["review-filter-reason", "review-filter-intent", "review-filter-min", "review-filter-max",
  "review-filter-since", "review-filter-until"];

/** Once, when the page loads: `changed()` runs whenever the trainer asks for other items. */
export function setupFilters(changed) {
  fillReasons();
  $("review-filters").addEventListener("submit", function (event) {
    event.preventDefault();
    changed();
  });
  $("review-search").addEventListener("search", function () {
    if (!$("review-search").value) {
      changed(); // the field's clear button (Enter is the form's submit)
    }
  });
  CHANGING.forEach(function (id) {
    $(id).addEventListener("change", changed);
  });
  $("review-filters-clear").addEventListener("click", function () {
    resetFilters();
    changed();
    $("review-search").focus();
  });
}

/** Everything back to "all messages". */
export function resetFilters() {
  ["review-search"].concat(CHANGING).forEach(function (id) {
    $(id).value = "";
  });
  $("review-filters-clear").hidden = true;
}

/** The domain's intents, by their titles, for the intent filter; the one chosen stays chosen. */
export function fillIntentFilter(intents) {
  var select = $("review-filter-intent");
  var chosen = select.value;
  clear(select);
  select.appendChild(el("option", { value: "" }, "Any intent"));
  intents
    .map(function (name) {
      return { name: name, title: intentTitle(name) };
    })
    .sort(function (a, b) {
      return a.title.localeCompare(b.title);
    })
    .forEach(function (intent) {
      select.appendChild(el("option", { value: intent.name }, intent.title));
    });
  if (chosen && intents.indexOf(chosen) === -1) {
    select.appendChild(el("option", { value: chosen }, intentTitle(chosen)));
  }
  select.value = chosen;
}

/**
 * The filters as query parameters (empty ones left out), or `{error}` when a percentage is not one; the Clear
 * button shows whenever a filter is set.
 */
export function filterParams() {
  var params = {};
  var search = $("review-search").value.trim();
  if (search) {
    params.q = search;
  }
  var why = $("review-filter-reason").value;
  if (why) {
    var parts = why.split(":");
    params[parts[0]] = parts[1];
  }
  if ($("review-filter-intent").value) {
    params.intent = $("review-filter-intent").value;
  }
  var bounds = [["review-filter-min", "min_confidence"], ["review-filter-max", "max_confidence"]];
  for (var i = 0; i < bounds.length; i += 1) {
    var input = $(bounds[i][0]);
    var raw = input.value.trim();
    if (!raw && input.validity && input.validity.badInput) {
      return { error: "The confidence is a percentage from 0 to 100.", field: input };
    }
    if (raw) {
      var percent = Number(raw);
      if (isNaN(percent) || percent < 0 || percent > 100) {
        return { error: "The confidence is a percentage from 0 to 100.", field: input };
      }
      params[bounds[i][1]] = String(Math.round(percent * 10) / 1000);
    }
  }
  ["since", "until"].forEach(function (name) {
    var value = $("review-filter-" + name).value;
    if (value) {
      params[name] = value;
    }
  });
  $("review-filters-clear").hidden = !Object.keys(params).length;
  return { params: params };
}

/** "Why it is here": every message, one kind of question, or one reason. */
function fillReasons() {
  var select = clear($("review-filter-reason"));
  select.appendChild(el("option", { value: "" }, "Any reason"));
  REVIEW_KINDS.forEach(function (group) {
    var options = el("optgroup", { label: group.title });
    append(options, el("option", { value: "kind:" + group.kind }, "Any: " + group.title.toLowerCase()));
    group.reasons.forEach(function (reason) {
      options.appendChild(el("option", { value: "reason:" + reason }, REVIEW_REASONS[reason]));
    });
    select.appendChild(options);
  });
}
