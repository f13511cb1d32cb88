/* Insight's headline tiles: CSAT and NPS of the bot and the agents, containment, handoffs, queue wait. */

import { $, append, clear, el } from "../dom.js";
import { NONE, formatAverage, formatCount, formatNps, formatSeconds, formatShare, isNone, plural } from "./figures.js";
import { tableNamed } from "./report-table.js";

function tile(name, label, value, detail, hint) {
  var item = el("li", { class: "tile", "data-testid": "insight-tile-" + name, title: hint || null });
  append(
    item,
    el("span", { class: "tile__label" }, label),
    el("strong", { class: "tile__value", "data-testid": "insight-tile-value" }, value),
    el("span", { class: "tile__detail muted small", "data-testid": "insight-tile-detail" }, detail)
  );
  if (value === NONE) {
    item.classList.add("tile--none");
  }
  return item;
}

/** The agents' rows added up: shares from the counts, the average weighted by each agent's ratings. */
function agentsTogether(rows) {
  var sum = { ratings: 0, satisfied: 0, weighted: 0, nps_answers: 0, promoters: 0, detractors: 0 };
  rows.forEach(function (row) {
    var count = Number(row.ratings) || 0;
    sum.ratings += count;
    sum.satisfied += Number(row.satisfied) || 0;
    sum.weighted += count && !isNone(row.average) ? Number(row.average) * count : 0;
    sum.nps_answers += Number(row.nps_answers) || 0;
    sum.promoters += Number(row.promoters) || 0;
    sum.detractors += Number(row.detractors) || 0;
  });
  return {
    ratings: sum.ratings,
    satisfied: sum.satisfied,
    csat: sum.ratings ? sum.satisfied / sum.ratings : null,
    average: sum.ratings ? sum.weighted / sum.ratings : null,
    nps_answers: sum.nps_answers,
    promoters: sum.promoters,
    detractors: sum.detractors,
    nps: sum.nps_answers ? (100 * (sum.promoters - sum.detractors)) / sum.nps_answers : null,
  };
}

function csatTile(name, label, row) {
  var count = Number(row.ratings) || 0;
  return tile(
    name,
    label,
    formatShare(row.csat),
    count
      ? "rated 4–5 · average " + formatAverage(row.average) + " of 5 · " + plural(count, "rating", "ratings")
      : "No ratings in this period",
    "CSAT: the share of 1–5 star ratings that were 4 or 5"
  );
}

function npsTile(name, label, row) {
  var count = Number(row.nps_answers) || 0;
  return tile(
    name,
    label,
    formatNps(row.nps),
    count
      ? plural(row.promoters, "promoter", "promoters") + ", " + plural(row.detractors, "detractor", "detractors") +
          " · " + plural(count, "answer", "answers")
      : "No NPS answers in this period",
    "NPS: % promoters (9–10) minus % detractors (0–6), from -100 to +100"
  );
}

export function renderTiles(data) {
  var list = clear($("insight-tiles"));
  var satisfaction = tableNamed(data, "satisfaction").rows || [];
  var bot = satisfaction.find(function (row) {
    return row.agent_id === null || row.agent_id === undefined;
  }) || { ratings: 0, nps_answers: 0 };
  var agents = agentsTogether(
    satisfaction.filter(function (row) {
      return row !== bot;
    })
  );
  var questions = Array.isArray(data.feedback_questions) ? data.feedback_questions : [];
  var showNps =
    questions.indexOf("nps") !== -1 ||
    satisfaction.some(function (row) {
      return Number(row.nps_answers) > 0;
    });
  var showCsat = questions.indexOf("csat") !== -1 || !showNps || (Number(bot.ratings) || 0) + agents.ratings > 0;
  if (showCsat) {
    append(list, csatTile("bot-csat", "Bot CSAT", bot), csatTile("agent-csat", "Agents' CSAT", agents));
  }
  if (showNps) {
    append(list, npsTile("bot-nps", "Bot NPS", bot), npsTile("agent-nps", "Agents' NPS", agents));
  }

  var containment = (tableNamed(data, "containment").rows || [])[0] || {};
  var conversations = Number(containment.conversations) || 0;
  append(
    list,
    tile(
      "containment",
      "Containment",
      formatShare(containment.containment),
      conversations
        ? formatCount(containment.contained) + " of " + plural(conversations, "conversation", "conversations") +
            " finished by the bot"
        : "No conversations in this period",
      "Conversations the bot finished without handing the customer to a person"
    ),
    tile(
      "handoff-rate",
      "Handoff rate",
      formatShare(containment.handoff_rate),
      conversations
        ? formatCount(containment.handed_off) + " of " + plural(conversations, "conversation", "conversations") +
            " handed to a person"
        : "No conversations in this period",
      "Conversations in which the customer was handed to a person"
    )
  );

  var times = tableNamed(data, "response_times").rows || [];
  var wait = times.find(function (row) {
    return row.key === "queue_wait";
  }) || {};
  var waited = Number(wait.count) || 0;
  list.appendChild(
    tile(
      "queue-wait",
      "Median queue wait",
      formatSeconds(wait.median_seconds),
      waited
        ? "90% within " + formatSeconds(wait.p90_seconds) + " · " + plural(waited, "handoff", "handoffs") + " claimed"
        : "No handoffs claimed in this period",
      "From the handoff to an agent's claim"
    )
  );
}
