/*
 * The handoff packet card: why the customer came to a person, what they said and what the bot made of it, in
 * words (intent titles, never the bot's internal names).
 */

import { $, append, badge, clear, el, facts, wrappable } from "../dom.js";
import { formatTime, percent } from "../format.js";
import {
  entityWords,
  formWords,
  inWords,
  priorityBadge,
  reasonBadge,
  signalWords,
  sourceWords,
} from "../handoff-labels.js";
import { intentTitle } from "../intent-titles.js";

var UNSURE_BELOW = 0.5; // the bot's confidence under which a turn is marked as a guess
var LEGACY_BUTTON = /^\(tapped a button(?::\s*([\w-]+))?\)$/; // how older packets wrote a tapped button

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
  var feeling = emotionText(packet.emotion);
  append(
    badges,
    priorityBadge(handoff.priority),
    reasonBadge(handoff.reason),
    feeling ? badge("emotion", "feeling", "Feeling: " + feeling, "How the customer's last message came across") : null
  );
  card.appendChild(badges);
  card.appendChild(el("p", { class: "summary" }, handoff.summary || packet.summary || "No summary."));

  var customer = packet.customer || {};
  var entities = packet.entities && typeof packet.entities === "object" ? packet.entities : {};
  var requested = formatTime(handoff.requested_at);
  card.appendChild(
    facts([
      ["Handed over", requested && [requested, sourceWords(handoff.source)].filter(Boolean).join(", ")],
      ["Claimed", handoff.claimed_at ? formatTime(handoff.claimed_at) : ""],
      ["Unfinished", packet.interrupted_form ? capitalised(formWords(packet.interrupted_form)) : ""],
      ["Order", unlessFound(entities.order_id, packet.order_id)],
      ["Email given", unlessFound(entities.email, customer.email)],
    ])
  );

  if (Array.isArray(packet.intents) && packet.intents.length) {
    card.appendChild(el("h4", { class: "card__subtitle", id: "said-title" }, "What the customer said"));
    card.appendChild(saidList(packet.intents));
  }
  var entityNames = Object.keys(entities);
  if (entityNames.length) {
    card.appendChild(el("h4", { class: "card__subtitle" }, "Details the bot picked up"));
    card.appendChild(
      facts(
        entityNames.map(function (name) {
          var values = Array.isArray(entities[name]) ? entities[name] : [entities[name]];
          return [entityWords(name), values.map(String).join(", ")];
        })
      )
    );
  }
  if (Array.isArray(packet.signals) && packet.signals.length) {
    card.appendChild(el("h4", { class: "card__subtitle" }, "Why a person"));
    var chips = el("ul", { class: "chips", "aria-label": "Why a person" });
    var scores = packet.scores && typeof packet.scores === "object" ? packet.scores : {};
    packet.signals.forEach(function (signal) {
      var score = scores[signal];
      var text = signalWords(signal) + (typeof score === "number" && isFinite(score) ? " (" + percent(score) + ")" : "");
      chips.appendChild(el("li", { class: "chip" }, text));
    });
    card.appendChild(chips);
  }
}

/** `value`, unless "Details the bot picked up" lists it already. */
function unlessFound(found, value) {
  return value && !(Array.isArray(found) && found.map(String).indexOf(String(value)) >= 0) ? value : "";
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "strong anger", "mild frustration"; null when the customer's last message showed no feeling. */
function emotionText(emotion) {
  if (typeof emotion === "string") {
    return emotion === "neutral" ? null : inWords(emotion).toLowerCase();
  }
  if (!emotion || typeof emotion !== "object" || emotion.level === "none" || emotion.label === "neutral") {
    return null;
  }
  var level = emotion.level === "strong" || emotion.level === "mild" ? emotion.level + " " : "";
  return level + inWords(emotion.label || emotion.name || "upset").toLowerCase();
}

/** Each message with what the bot understood by it: "Where is my order · 93% sure". */
function saidList(turns) {
  var list = el("ol", { class: "said", "aria-labelledby": "said-title" });
  turns.forEach(function (turn) {
    var confidence = typeof turn.confidence === "number" ? turn.confidence : NaN;
    var unsure = !isNaN(confidence) && confidence < UNSURE_BELOW;
    var item = el("li", { class: "said__turn" + (unsure ? " is-low" : ""), "data-testid": "said-turn" });
    var legacy = LEGACY_BUTTON.exec(turn.text || "");
    var tapped = turn.button === true || !!legacy;
    var intent = turn.intent || (legacy && legacy[1]) || "";
    if (tapped) {
      item.appendChild(el("span", { class: "said__text said__text--button" }, "Tapped a button"));
    } else {
      item.appendChild(append(el("q", { class: "said__text" }), wrappable(turn.text || "")));
    }
    var understood = intent ? intentTitle(intent) : "Not understood";
    var sureness = isNaN(confidence) ? "" : unsure ? "a guess, " + percent(confidence) : percent(confidence) + " sure";
    item.appendChild(
      el("span", { class: "said__intent small" }, "Understood as: " + understood + (sureness ? " · " + sureness : ""))
    );
    list.appendChild(item);
  });
  return list;
}
