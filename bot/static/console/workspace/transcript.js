/*
 * The open conversation's messages, in id order, each added once (reloads and live events overlap), and the
 * customer's ratings, each right after the question it answers.
 */

import { $, append, el, linkified } from "../dom.js";
import { formatTime, parseTime } from "../format.js";

var SENDER_LABELS = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "System" };
var QUESTION_WORDS = { csat: "Rated", nps: "Would recommend us" };

var messageIds = new Set();
var ratingKeys = new Set();

/** A new transcript (another conversation, or the same one drawn afresh). */
export function resetTranscript() {
  messageIds = new Set();
  ratingKeys = new Set();
}

export function addTranscriptMessage(message) {
  var transcript = $("transcript");
  if (!transcript || !message || messageIds.has(message.id)) {
    return;
  }
  messageIds.add(message.id);
  place(transcript, transcriptMessage(message), message.id);
}

/**
 * A rating ({question, score, scale, comment, at, after, credited_to, agent_name} from the conversation's
 * `ratings`), after the question it answers; `messages` place one whose question is unknown by its time.
 */
export function addTranscriptRating(rating, messages) {
  var transcript = $("transcript");
  var key = rating && [rating.question, rating.at, rating.score].join("|");
  if (!transcript || !rating || ratingKeys.has(key)) {
    return;
  }
  ratingKeys.add(key);
  place(transcript, ratingEntry(rating), ratingPosition(rating, messages));
}

/** Keep id order even if a live event overtakes a reload; a rating sits half a step after its question. */
function place(transcript, node, position) {
  node.setAttribute("data-position", String(position));
  var after = Array.prototype.find.call(transcript.children, function (other) {
    return Number(other.getAttribute("data-position")) > position;
  });
  transcript.insertBefore(node, after || null);
}

function ratingPosition(rating, messages) {
  if (typeof rating.after === "number") {
    return rating.after + 0.5;
  }
  var at = parseTime(rating.at);
  var before = (messages || []).filter(function (message) {
    return at !== null && parseTime(message.at) !== null && parseTime(message.at) <= at;
  });
  return before.length ? before[before.length - 1].id + 0.5 : 0.5;
}

function transcriptMessage(message) {
  var sender = SENDER_LABELS[message.sender] ? message.sender : "system";
  var payload = message.payload || {};
  var node = el("article", {
    class: "tmsg tmsg--" + sender,
    "data-testid": "transcript-message",
    "data-sender": sender,
    "data-id": message.id,
  });
  var name = sender === "agent" && typeof payload.agent_name === "string" ? payload.agent_name : SENDER_LABELS[sender];
  var tapped = sender === "customer" && typeof payload.button === "string";
  node.appendChild(head(name + (tapped ? " · tapped a button" : ""), message.at));
  node.appendChild(linkified("div", { class: "tmsg__body" }, message.text));
  if (Array.isArray(payload.buttons) && payload.buttons.length) {
    var chips = el("ul", { class: "tmsg__buttons", "aria-label": "Buttons offered" });
    payload.buttons.forEach(function (button) {
      if (button && button.title) {
        chips.appendChild(el("li", { class: "chip" }, button.title));
      }
    });
    node.appendChild(chips);
  }
  return node;
}

/** "Rated 5/5: Quick and kind", credited as the hub stored it (the agent of the handoff, or the assistant). */
function ratingEntry(rating) {
  var node = el("article", { class: "tmsg tmsg--customer tmsg--rating", "data-testid": "transcript-rating" });
  var credited = rating.credited_to === "agent" ? rating.agent_name || "an agent" : "the assistant";
  node.appendChild(head("Customer · rating for " + credited, rating.at));
  var words = (QUESTION_WORDS[rating.question] || "Rated") + " " + rating.score + "/" + rating.scale;
  var body = el("div", { class: "tmsg__body" });
  append(body, el("strong", { class: "tmsg__score" }, words + (rating.comment ? ":" : "")));
  if (rating.comment) {
    append(body, " ", linkified("span", { class: "tmsg__comment" }, rating.comment));
  }
  node.appendChild(body);
  return node;
}

function head(name, at) {
  var node = el("div", { class: "tmsg__head" });
  append(node, el("span", { class: "tmsg__name" }, name), el("time", { class: "tmsg__time", datetime: at }, formatTime(at)));
  return node;
}

export function isNearBottom(node) {
  return !node || node.scrollHeight - node.scrollTop - node.clientHeight < 80;
}

export function scrollToBottom() {
  var transcript = $("transcript");
  if (transcript) {
    transcript.scrollTop = transcript.scrollHeight;
  }
}
