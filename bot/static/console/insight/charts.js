/*
 * Insight's three charts (Chart.js, loaded the first time they are drawn): destroyed and drawn again for every
 * period, so none leaks. Each canvas says how many points it drew (data-points) once it has been drawn.
 * The two by-time charts are bars by day for short periods, by week or month for long ones (buckets.js), and
 * each says under it how many of its days had anything: a quiet period reads as quiet, not as a lone dot.
 */

import { $ } from "../dom.js";
import { chartBuckets, unitCount } from "./buckets.js";
import { formatAverage, formatCount, formatShare, isNone, plural } from "./figures.js";
import { loadChartLibrary } from "./chart-library.js";
import { tableNamed } from "./report-table.js";

var CHART_COLORS = {
  bot: "#1f5eff",
  agent: "#067647",
  contained: "#84adff",
  handedOff: "#f79009",
  line: "#1f5eff",
  grid: "#eaecf0",
  text: "#475467",
};

var LINE_FROM = 32; // CSAT over this many days, weeks or months is a line; fewer are bars
var COUNT_AXIS_MAX = 4; // a day or two of conversations does not fill the chart's height

var charts = {}; // name → Chart, destroyed before each redraw
var generation = 0; // a draw waiting for Chart.js goes ahead only if nothing was drawn or destroyed since

/** Start fetching Chart.js (Insight is being opened), so the charts need not wait for it later. */
export function preloadCharts() {
  loadChartLibrary().catch(function () {
    return null; // drawCharts says so by each chart
  });
}

/** Draw the period's charts once Chart.js is there (or say by each that it could not be loaded). */
export function renderCharts(data) {
  destroyCharts();
  var mine = generation;
  loadChartLibrary()
    .catch(function () {
      return null;
    })
    .then(function (Chart) {
      if (mine === generation) {
        drawCharts(data, Chart);
      }
    });
}

export function destroyCharts() {
  generation += 1;
  Object.keys(charts).forEach(function (name) {
    charts[name].destroy();
    var canvas = $("insight-chart-" + name);
    if (canvas) {
      canvas.removeAttribute("data-points");
      canvas.removeAttribute("data-drawn");
    }
  });
  charts = {};
}

function chartEmpty(name, message) {
  var note = document.querySelector("[data-empty-for=" + name + "]");
  note.textContent = message || "";
  note.hidden = !message;
  $("insight-chart-" + name).parentNode.hidden = !!message;
}

/** Under a by-time chart: "Ratings on 1 of 22 days." (nothing when the chart says it is empty). */
function chartNote(name, text) {
  var note = document.querySelector("[data-note-for=" + name + "]");
  if (note) {
    note.textContent = text || "";
    note.hidden = !text;
  }
}

/** Draw one chart; its canvas says how many points it drew (data-points) once it has been drawn. */
function drawChart(Chart, name, config, points, summary) {
  var canvas = $("insight-chart-" + name);
  canvas.setAttribute("aria-label", summary);
  canvas.setAttribute("data-points", "0");
  if (!points) {
    return;
  }
  if (typeof Chart !== "function") {
    chartEmpty(name, "The chart could not be drawn (its script did not load); the table below has the figures.");
    return;
  }
  config.plugins = [
    {
      id: "frontlineDrawn",
      afterRender: function () {
        canvas.setAttribute("data-points", String(points));
        canvas.setAttribute("data-drawn", "true");
      },
    },
  ];
  charts[name] = new Chart(canvas, config);
}

function chartOptions(extra) {
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var options = {
    responsive: true,
    maintainAspectRatio: false,
    animation: reduced ? false : { duration: 300 },
    plugins: { legend: { labels: { boxWidth: 12, color: CHART_COLORS.text } } },
    scales: {},
  };
  Object.keys(extra || {}).forEach(function (name) {
    options[name] = extra[name];
  });
  return options;
}

function percentAxis() {
  return {
    min: 0,
    max: 100,
    ticks: {
      color: CHART_COLORS.text,
      callback: function (value) {
        return value + "%";
      },
    },
    grid: { color: CHART_COLORS.grid },
  };
}

function dayAxis(stacked) {
  return {
    stacked: stacked,
    ticks: { color: CHART_COLORS.text, maxRotation: 0, autoSkipPadding: 12 },
    grid: { display: false },
  };
}

function timeTitle(groups) {
  return function (items) {
    var group = groups[items[0] ? items[0].dataIndex : 0] || {};
    return group.title || "";
  };
}

function drawCharts(data, Chart) {
  if (Chart && Chart.defaults) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = CHART_COLORS.text;
  }
  var daily = tableNamed(data, "daily").rows || [];
  var time = chartBuckets(daily);
  var groups = time.groups;
  var labels = groups.map(function (group) {
    return group.label;
  });
  var perWeek = time.unit === "day" ? "" : " Each bar is a " + time.unit + (time.unit === "week" ? " (from Monday)." : ".");
  $("insight-chart-csat-title").textContent = "Satisfaction by " + time.unit;
  $("insight-chart-handoffs-title").textContent = "Conversations and handoffs by " + time.unit;

  // CSAT by day, week or month: bars for a short period, a line for a long one; no ratings is no bar, not 0%.
  var csatPoints = groups.filter(function (group) {
    return !isNone(group.csat);
  }).length;
  var csatType = groups.length >= LINE_FROM ? "line" : "bar";
  chartEmpty("csat", csatPoints ? "" : "No ratings in this period.");
  chartNote("csat", csatPoints ? "Ratings in " + csatPoints + " of " + unitCount(groups.length, time.unit) + "." +
    (csatType === "bar" ? perWeek : "") : "");
  var csatCanvas = $("insight-chart-csat");
  csatCanvas.setAttribute("data-type", csatType);
  csatCanvas.setAttribute("data-unit", time.unit);
  drawChart(
    Chart,
    "csat",
    {
      type: csatType,
      data: {
        labels: labels,
        datasets: [
          {
            label: "CSAT (rated 4–5)",
            data: groups.map(function (group) {
              return isNone(group.csat) ? null : Math.round(Number(group.csat) * 1000) / 10;
            }),
            borderColor: CHART_COLORS.line,
            backgroundColor: CHART_COLORS.line,
            pointRadius: groups.length > 60 ? 1 : 3,
            spanGaps: true,
            cubicInterpolationMode: "monotone", // no curve overshooting 0% or 100%
            maxBarThickness: 36,
            minBarLength: 3, // 0% is a sliver, told apart from a day without ratings (no bar)
          },
        ],
      },
      options: chartOptions({
        scales: { y: percentAxis(), x: dayAxis(false) },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: timeTitle(groups),
              label: function (context) {
                var group = groups[context.dataIndex] || {};
                return "CSAT " + formatShare(group.csat) + " · " + plural(group.ratings, "rating", "ratings") +
                  " · average " + formatAverage(group.average);
              },
            },
          },
        },
      }),
    },
    csatPoints,
    "CSAT by " + time.unit + ": " + csatPoints + " of " + unitCount(groups.length, time.unit) +
      " had ratings. The By day table has the figures."
  );

  // Conversations by day, week or month, split into finished by the bot and handed to a person.
  var busy = groups.filter(function (group) {
    return group.conversations > 0;
  }).length;
  chartEmpty("handoffs", busy ? "" : "No conversations in this period.");
  chartNote("handoffs", busy ? "Conversations in " + busy + " of " + unitCount(groups.length, time.unit) + "." + perWeek : "");
  var handoffsCanvas = $("insight-chart-handoffs");
  handoffsCanvas.setAttribute("data-type", "bar");
  handoffsCanvas.setAttribute("data-unit", time.unit);
  drawChart(
    Chart,
    "handoffs",
    {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          {
            label: "Finished by the bot",
            data: groups.map(function (group) {
              return Math.max(0, group.conversations - group.handed_off);
            }),
            backgroundColor: CHART_COLORS.contained,
            stack: "conversations",
            maxBarThickness: 36,
          },
          {
            label: "Handed to a person",
            data: groups.map(function (group) {
              return group.handed_off;
            }),
            backgroundColor: CHART_COLORS.handedOff,
            stack: "conversations",
            maxBarThickness: 36,
          },
        ],
      },
      options: chartOptions({
        scales: {
          x: dayAxis(true),
          y: {
            stacked: true,
            beginAtZero: true,
            suggestedMax: COUNT_AXIS_MAX,
            ticks: { precision: 0, color: CHART_COLORS.text },
            grid: { color: CHART_COLORS.grid },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: timeTitle(groups),
              footer: function (items) {
                var group = groups[items[0] ? items[0].dataIndex : 0] || {};
                return plural(group.conversations, "conversation", "conversations") + " · handoff rate " +
                  formatShare(group.handoff_rate);
              },
            },
          },
        },
      }),
    },
    busy,
    "Conversations by " + time.unit + ", finished by the bot or handed to a person: " + busy + " of " +
      unitCount(groups.length, time.unit) + " had conversations. The By day table has the figures."
  );

  // CSAT of the bot and of each agent with ratings.
  var rated = (tableNamed(data, "satisfaction").rows || []).filter(function (row) {
    return Number(row.ratings) > 0;
  });
  chartEmpty("agents", rated.length ? "" : "No ratings in this period.");
  drawChart(
    Chart,
    "agents",
    {
      type: "bar",
      data: {
        labels: rated.map(function (row) {
          var name = String(row.credited_to || "");
          return (name.length > 22 ? name.slice(0, 21) + "…" : name) + " (" + formatCount(row.ratings) + ")";
        }),
        datasets: [
          {
            label: "CSAT (rated 4–5)",
            data: rated.map(function (row) {
              return Math.round(Number(row.csat) * 1000) / 10;
            }),
            backgroundColor: rated.map(function (row) {
              return isNone(row.agent_id) ? CHART_COLORS.bot : CHART_COLORS.agent;
            }),
            maxBarThickness: 28,
            minBarLength: 3, // someone rated at 0% still has a bar
          },
        ],
      },
      options: chartOptions({
        indexAxis: "y",
        scales: { x: percentAxis(), y: { ticks: { color: CHART_COLORS.text }, grid: { display: false } } },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (context) {
                var row = rated[context.dataIndex] || {};
                return "CSAT " + formatShare(row.csat) + " · average " + formatAverage(row.average) + " · " +
                  plural(row.ratings, "rating", "ratings");
              },
            },
          },
        },
      }),
    },
    rated.length,
    "CSAT of " + rated.map(function (row) {
      return row.credited_to + " " + formatShare(row.csat) + " of " + plural(row.ratings, "rating", "ratings");
    }).join("; ") + "."
  );
  // The chart areas are sized by the page: keep them in step when the window changes (Chart.js listens too).
}
