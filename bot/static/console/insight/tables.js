/* Insight's tables: each drawn from the hub's columns and rows, with its CSV download; By day newest first
 * (daily-table.js). Every cell keeps the hub's value in data-value and shows it in words. */

import { $, append, clear, el } from "../dom.js";
import { DAILY_PAGE, dailyEntries, quietRow } from "./daily-table.js";
import { formatCell, isNone, isSecondsKey } from "./figures.js";
import { csvHref } from "./period.js";

var TABLE_EMPTY = {
  satisfaction: "No ratings in this period.",
  handoff_reasons: "No handoffs in this period.",
  handoff_intents: "No customer needs recorded in this period.",
  agents: "No agents.",
};

/** Small tables two by two, big ones (many columns or rows) across the page; none left alone on a row. */
export function renderTables(data) {
  var box = clear($("insight-tables"));
  var run = [];
  function endRun() {
    if (run.length % 2) {
      run[run.length - 1].classList.add("insight-table-card--wide");
    }
    run = [];
  }
  (Array.isArray(data.tables) ? data.tables : []).forEach(function (table) {
    if (!table || !table.name) {
      return;
    }
    var columns = Array.isArray(table.columns) ? table.columns.length : 0;
    var rows = Array.isArray(table.rows) ? table.rows.length : 0;
    var card = insightTable(table);
    if (columns > 5 || rows > 12) {
      endRun();
      card.classList.add("insight-table-card--wide");
    } else {
      run.push(card);
    }
    box.appendChild(card);
  });
  endRun();
}

function cellHint(key, value) {
  return isSecondsKey(key) && !isNone(value) ? String(value) + " s" : null;
}

function insightTable(table) {
  var columns = Array.isArray(table.columns) ? table.columns : [];
  var rows = Array.isArray(table.rows) ? table.rows : [];
  var titleId = "insight-table-title-" + table.name;
  var card = el("section", {
    class: "card insight-table-card",
    "aria-labelledby": titleId,
    "data-table": table.name,
  });
  var head = el("header", { class: "insight-table-card__header" });
  var link = el(
    "a",
    {
      class: "insight-csv",
      href: csvHref(table.name),
      download: true,
      "data-csv-table": table.name,
      "data-testid": "insight-csv-" + table.name,
      "aria-describedby": titleId,
    },
    "Download CSV"
  );
  append(head, el("h2", { class: "card__title", id: titleId }, table.title || table.name), link);
  card.appendChild(head);

  var numeric = {};
  columns.forEach(function (column) {
    numeric[column.key] = rows.some(function (row) {
      return typeof row[column.key] === "number";
    });
  });
  var wrap = el("div", { class: "insight-table-wrap", tabindex: 0, "aria-labelledby": titleId, role: "region" });
  var element = el("table", { class: "table insight-table", "data-testid": "insight-table-" + table.name });
  var headRow = el("tr");
  columns.forEach(function (column) {
    // The hub labels time columns "(s)"; the page writes times out ("2 min 5 s"), so the unit goes.
    var label = isSecondsKey(column.key) ? String(column.label).replace(/\s*\(s\)$/, "") : column.label;
    headRow.appendChild(el("th", { scope: "col", class: numeric[column.key] ? "num" : null, "data-key": column.key }, label));
  });
  append(element, append(el("thead"), headRow));
  var body = el("tbody");
  if (!rows.length) {
    var empty = el("tr", { class: "insight-table__empty" });
    empty.appendChild(el("td", { colspan: Math.max(1, columns.length) }, TABLE_EMPTY[table.name] || "Nothing in this period."));
    body.appendChild(empty);
  }
  element.appendChild(body);
  wrap.appendChild(element);
  card.appendChild(wrap);
  if (table.name === "daily") {
    pagedDays(card, body, rows, columns, numeric);
  } else {
    rows.forEach(function (row) {
      body.appendChild(tableRow(row, columns, numeric));
    });
  }
  return card;
}

/** The By day rows, newest first with quiet runs folded, a month at a time ("Show earlier days"). */
function pagedDays(card, body, rows, columns, numeric) {
  var entries = dailyEntries(rows);
  var shown = 0;
  var more = el("button", { class: "btn btn--small insight-table__more", type: "button", "data-testid": "insight-daily-more" });
  function showMore() {
    entries.slice(shown, shown + DAILY_PAGE).forEach(function (entry) {
      body.appendChild(entry.quiet ? quietRow(entry.quiet, columns.length) : tableRow(entry.row, columns, numeric));
    });
    shown = Math.min(entries.length, shown + DAILY_PAGE);
    more.textContent = "Show earlier days (" + (entries.length - shown) + " more rows)";
    more.hidden = shown >= entries.length;
  }
  more.addEventListener("click", showMore);
  showMore();
  card.appendChild(more);
}

function tableRow(row, columns, numeric) {
  var tr = el("tr");
  columns.forEach(function (column, index) {
    var value = row[column.key];
    var header = index === 0 && !numeric[column.key]; // the row's name (a day, an agent, a reason...)
    var cell = el(
      header ? "th" : "td",
      {
        scope: header ? "row" : null,
        class: numeric[column.key] ? "num" : null,
        "data-key": column.key,
        "data-value": isNone(value) ? "" : String(value),
        title: cellHint(column.key, value),
      },
      formatCell(column.key, value)
    );
    tr.appendChild(cell);
  });
  return tr;
}
