/*
 * The By day table as supervisors read it: the newest day first, a run of quiet days (no conversation and no
 * rating) folded into one row, and a month of rows at a time, so the page never scrolls inside the table.
 */

import { append, el } from "../dom.js";
import { formatDay } from "./days.js";

export var DAILY_PAGE = 31;

/** The hub's rows (oldest first) as [{row}] and [{quiet: [rows]}], newest first; one quiet day stays a row. */
export function dailyEntries(rows) {
  var entries = [];
  var run = [];
  function endRun() {
    if (run.length > 1) {
      entries.push({ quiet: run });
    } else if (run.length) {
      entries.push({ row: run[0] });
    }
    run = [];
  }
  rows
    .slice()
    .reverse()
    .forEach(function (row) {
      if (!Number(row.conversations) && !Number(row.ratings)) {
        run.push(row);
      } else {
        endRun();
        entries.push({ row: row });
      }
    });
  endRun();
  return entries;
}

/** One row for a run of quiet days (newest first), across every column. */
export function quietRow(days, columnCount) {
  var newest = days[0].day;
  var oldest = days[days.length - 1].day;
  var row = el("tr", {
    class: "insight-table__quiet",
    "data-testid": "insight-daily-quiet",
    "data-from": oldest,
    "data-to": newest,
    "data-days": days.length,
  });
  var cell = el("th", { scope: "row", colspan: columnCount });
  append(
    cell,
    "No conversations and no ratings from " + formatDay(oldest, true) + " to " + formatDay(newest, true) + " ",
    el("span", { class: "muted" }, "(" + days.length + " days)")
  );
  row.appendChild(cell);
  return row;
}
