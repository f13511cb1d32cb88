/*
 * The period Insight shows (whole UTC days, `since` and `until` both included, as the hub counts them), the
 * query string that asks for it, and the CSV links that follow it.
 */

import { $ } from "../dom.js";

var since = null;
var until = null;

export function period() {
  return { since: since, until: until };
}

export function setPeriod(newSince, newUntil) {
  since = newSince;
  until = newUntil;
}

export function resetPeriod() {
  since = null;
  until = null;
}

export function periodQuery(extra) {
  var params = new URLSearchParams();
  params.set("since", since);
  params.set("until", until);
  Object.keys(extra || {}).forEach(function (name) {
    if (extra[name] !== "" && extra[name] !== null && extra[name] !== undefined) {
      params.set(name, String(extra[name]));
    }
  });
  return params.toString();
}

export function csvHref(name, extra) {
  return "/api/insight/" + encodeURIComponent(name) + ".csv?" + periodQuery(extra);
}

/** The CSV links follow the period (and the comment search, `q`) as soon as they change. */
export function updateCsvLinks(q) {
  Array.prototype.forEach.call(document.querySelectorAll("#insight-tables [data-csv-table]"), function (link) {
    link.setAttribute("href", csvHref(link.getAttribute("data-csv-table")));
  });
  $("insight-comments-csv").setAttribute("href", csvHref("comments", { q: q }));
}
