/*
 * The words agents read for what the hub and the bot store as names: a handoff's priority and reason, who asked
 * for it, the channel, the form the bot was in, the entities it found and the signals that brought a person in.
 * Nothing here is shown raw: a name without words of its own is written out ("high_value_order" -> "High value
 * order").
 */

import { badge } from "./dom.js";
import { intentTitle } from "./intent-titles.js";

/** The longer explanations (badges' tooltips, Insight's table hints). */
export var PRIORITY_LABELS = { urgent: "Urgent priority", high: "High priority", normal: "Normal priority" };

export var REASON_LABELS = {
  requested: "The customer asked for a person",
  emotional: "The customer seems upset",
  complex: "A case the bot should not handle alone",
  not_understood: "The bot did not understand the customer",
  bot_error: "The bot failed (system error)",
};

/** What a badge says. */
var PRIORITY_WORDS = { urgent: "Urgent", high: "High", normal: "Normal" };

var REASON_WORDS = {
  requested: "Asked for a person",
  emotional: "Upset",
  complex: "Complex case",
  not_understood: "Not understood",
  bot_error: "Bot failed",
};

var CHANNEL_WORDS = { web: "Web chat", telegram: "Telegram" };

var SOURCE_WORDS = {
  rasa: "by the assistant",
  hub: "by the hub: the assistant could not answer",
};

/** The bot's forms, as what the customer was doing when the conversation was handed over. */
var FORM_WORDS = {
  track_order_form: "was tracking an order",
  cancel_order_form: "was cancelling an order",
  address_form: "was changing a delivery address",
  refund_form: "was asking for a refund",
  refund_status_form: "was checking on a refund",
  invoice_form: "was asking for an invoice",
  newsletter_form: "was changing the newsletter",
  review_form: "was leaving a review",
  human_offer_form: "was being offered a person",
};

var ENTITY_WORDS = { order_id: "Order number", invoice_id: "Invoice number", email: "Email" };

var SIGNAL_WORDS = {
  accepted_offer: "Accepted the bot's offer of a person",
  needs_person: "Needs a person",
  not_about_the_shop: "Not about the shop",
  "hub:rasa_unavailable": "The assistant could not be reached",
};

/** "high_value_order" -> "High value order": a name nobody gave words to, still read as words. */
export function inWords(name) {
  var words = String(name === null || name === undefined ? "" : name)
    .replace(/[_:+]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function lookUp(table, value) {
  return Object.prototype.hasOwnProperty.call(table, value) ? table[value] : inWords(value);
}

export function priorityBadge(priority) {
  var value = priority || "normal";
  return badge("priority", value, lookUp(PRIORITY_WORDS, value), PRIORITY_LABELS[value]);
}

export function reasonBadge(reason) {
  return badge("reason", reason, lookUp(REASON_WORDS, reason), REASON_LABELS[reason]);
}

/** "web" -> "Web chat". */
export function channelWords(channel) {
  return lookUp(CHANNEL_WORDS, channel || "web");
}

/** Who asked for the person: "by the assistant"; "" when nobody says. */
export function sourceWords(source) {
  return source ? lookUp(SOURCE_WORDS, source) : "";
}

/** "refund_form" -> "was asking for a refund". */
export function formWords(form) {
  return Object.prototype.hasOwnProperty.call(FORM_WORDS, form)
    ? FORM_WORDS[form]
    : "was in the middle of: " + inWords(String(form).replace(/_form$/, "")).toLowerCase();
}

export function entityWords(name) {
  return lookUp(ENTITY_WORDS, name);
}

/**
 * A signal as escalation.py and action_handoff write it ("emotion:strong:anger", "topic:fraud",
 * "intent:complaint", "repeated_need:track_order"...), in words.
 */
export function signalWords(signal) {
  var text = String(signal);
  if (Object.prototype.hasOwnProperty.call(SIGNAL_WORDS, text)) {
    return SIGNAL_WORDS[text];
  }
  var parts = text.split(":");
  var kind = parts[0];
  var rest = parts.slice(1).join(":");
  switch (kind) {
    case "reason":
      return REASON_LABELS[rest] || inWords(rest);
    case "intent":
      return "Last request: " + intentTitle(rest);
    case "repeated_need":
      return "Asked again: " + intentTitle(rest);
    case "emotion":
      return inWords(parts.slice(1).join(" ")); // "Strong anger"
    case "topic":
      return "Topic: " + inWords(rest).toLowerCase();
    case "high_stakes":
      return "High stakes: " + inWords(rest).toLowerCase();
    case "several_problems":
      return "Several problems: " + rest.split("+").map(inWords).join(", ").toLowerCase();
    case "negative_turns":
      return rest + " unhappy messages in a row";
    case "cue":
      return "Cue: " + inWords(rest).toLowerCase();
    case "action":
      return "The bot stopped: " + inWords(rest).toLowerCase();
    default:
      return inWords(text);
  }
}
