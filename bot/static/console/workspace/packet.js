/* The handoff packet card: why the customer came to a person, what they said, and the bot's signals. */

import { $, append, badge, clear, el, facts } from "../dom.js";
import { formatTime } from "../format.js";
import { PRIORITY_LABELS, REASON_LABELS } from "../handoff-labels.js";

export function renderPacket(data) {
  var card = clear($("packet-card"));
  card.appendChild(el("h3", { class: "card__title" }, "Handoff"));
  var handoff = data.handoff;
  if (!handoff) {
    card.appendChild(el("p", { class: "muted" }, "This conversation has not been handed to a person."));
    return;
  }
  var packet = handoff.packet || {};
  var badges = el("div", { class: "badges" });
  append(
    badges,
    badge("priority", handoff.priority, PRIORITY_LABELS[handoff.priority] || handoff.priority),
    badge("reason", handoff.reason, REASON_LABELS[handoff.reason] || handoff.reason),
    packet.emotion ? badge("emotion", "x", "Emotion: " + emotionText(packet.emotion)) : null
  );
  card.appendChild(badges);
  card.appendChild(el("p", { class: "summary" }, handoff.summary || packet.summary || "No summary."));

  var customer = packet.customer || {};
  card.appendChild(
    facts([
      ["Requested", formatTime(handoff.requested_at) + (handoff.source ? " (by " + handoff.source + ")" : "")],
      ["Claimed", handoff.claimed_at ? formatTime(handoff.claimed_at) : ""],
      ["Order", packet.order_id || ""],
      ["Verified customer", customer.verified_customer_id || ""],
      ["Email", customer.email || ""],
      ["Interrupted form", packet.interrupted_form || ""],
      ["Bot channel", packet.channel || ""],
    ])
  );

  if (Array.isArray(packet.intents) && packet.intents.length) {
    card.appendChild(el("h4", { class: "card__subtitle" }, "What the customer said"));
    card.appendChild(intentsTable(packet.intents));
  }
  var entities = packet.entities && typeof packet.entities === "object" ? packet.entities : {};
  var entityNames = Object.keys(entities);
  if (entityNames.length) {
    card.appendChild(el("h4", { class: "card__subtitle" }, "Entities"));
    card.appendChild(
      facts(
        entityNames.map(function (name) {
          var values = Array.isArray(entities[name]) ? entities[name] : [entities[name]];
          return [name, values.map(String).join(", ")];
        })
      )
    );
  }
  if (Array.isArray(packet.signals) && packet.signals.length) {
    card.appendChild(el("h4", { class: "card__subtitle" }, "Signals"));
    var chips = el("div", { class: "chips" });
    var scores = packet.scores && typeof packet.scores === "object" ? packet.scores : {};
    packet.signals.forEach(function (signal) {
      var score = Number(scores[signal]);
      var text = String(signal) + (isFinite(score) && scores[signal] !== undefined ? " " + score.toFixed(2) : "");
      chips.appendChild(el("span", { class: "chip" }, text));
    });
    card.appendChild(chips);
  }
}

function emotionText(emotion) {
  if (typeof emotion === "string") {
    return emotion;
  }
  if (emotion && typeof emotion === "object") {
    var label = emotion.label || emotion.name || JSON.stringify(emotion);
    var score = Number(emotion.score !== undefined ? emotion.score : emotion.confidence);
    return isNaN(score) ? String(label) : label + " (" + Math.round(score * 100) + "%)";
  }
  return String(emotion);
}

function intentsTable(intents) {
  var table = el("table", { class: "table" });
  var head = el("tr");
  append(head, el("th", null, "Intent"), el("th", { class: "num" }, "Conf."), el("th", null, "Text"));
  append(table, append(el("thead"), head));
  var body = el("tbody");
  intents.forEach(function (turn) {
    var confidence = Number(turn.confidence);
    var row = el("tr", { class: !isNaN(confidence) && confidence < 0.5 ? "is-low" : null });
    append(
      row,
      el("td", { class: "mono" }, turn.intent || "—"),
      el("td", { class: "num" }, isNaN(confidence) ? "—" : Math.round(confidence * 100) + "%"),
      el("td", null, turn.text || "")
    );
    body.appendChild(row);
  });
  table.appendChild(body);
  return table;
}
