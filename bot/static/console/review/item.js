/*
 * One message in the review inbox: why it is there, the bot's guess (in words), the text, a link to its
 * conversation when the console can open it, and its form or verdict.
 */

import { conversationLink } from "../conversation-link.js";
import { append, badge, el } from "../dom.js";
import { formatDate, formatTime } from "../format.js";
import { escalationScores } from "./escalation-scores.js";
import { confidence, intentName } from "./intent-name.js";
import { ESCALATION_LABELS, escalationForm, reviewForm } from "./label-forms.js";
import { REVIEW_REASON_HINTS, REVIEW_REASONS } from "./reasons.js";

/** `inbox`: knownIntent(name), reviewed(item, node, status) and openConversation(id), from the inbox. */
export function reviewItem(item, inbox) {
  var textId = "review-text-" + item.id;
  var node = el("li", {
    class: "review-item review-item--" + item.status,
    "data-testid": "review-item",
    "data-id": item.id,
    "data-status": item.status,
    "data-kind": item.kind || "intent",
    "data-conversation-id": item.conversation_id,
  });

  var top = el("div", { class: "review-item__top" });
  var reason = badge("review", item.reason, REVIEW_REASONS[item.reason] || "Other");
  reason.setAttribute("data-testid", "review-reason");
  reason.title = REVIEW_REASON_HINTS[item.reason] || "";
  var escalation = item.kind === "escalation";
  // An open intent item shows the bot's guess as a suggestion by its form (label-forms.js), not here.
  var predicted = null;
  if (escalation) {
    predicted = el("span", { class: "review-item__predicted", "data-testid": "review-predicted" });
    append(predicted, el("span", { class: "muted" }, "Understood as "), intentName(item.predicted_intent));
  } else if (item.status !== "open") {
    predicted = el("span", { class: "review-item__predicted", "data-testid": "review-predicted" });
    if (item.predicted_intent) {
      append(
        predicted,
        el("span", { class: "muted" }, "The bot guessed "),
        intentName(item.predicted_intent),
        confidence(item)
      );
    } else {
      predicted.appendChild(el("span", { class: "muted" }, "The bot had no guess"));
    }
  }
  var when = el(
    "time",
    { class: "review-item__when muted small", datetime: item.created_at, title: formatDate(item.created_at) },
    formatTime(item.created_at)
  );
  append(top, reason, predicted, when, conversation(item, textId, inbox));
  node.appendChild(top);

  node.appendChild(el("blockquote", { class: "review-item__text", id: textId, "data-testid": "review-text" }, item.text));
  if (escalation) {
    node.appendChild(escalationScores(item.scores));
  }

  var entities = Array.isArray(item.entities) ? item.entities : [];
  if (entities.length) {
    var chips = el("div", { class: "chips review-item__entities", "aria-label": "Entities found" });
    entities.forEach(function (entity) {
      if (entity && entity.entity) {
        chips.appendChild(el("span", { class: "chip" }, entity.entity + ": " + String(entity.value)));
      }
    });
    node.appendChild(chips);
  }

  var foot = el("div", { class: "review-item__foot" });
  if (item.status === "open") {
    foot.appendChild(escalation ? escalationForm(item, node, textId, inbox) : reviewForm(item, node, textId, inbox));
  } else {
    foot.appendChild(verdict(item, escalation));
  }
  node.appendChild(foot);
  return node;
}

/** A labelled or dismissed item: what it became, by whom and when. */
function verdict(item, escalation) {
  var line = el("p", { class: "review-item__verdict", "data-testid": "review-verdict" });
  if (item.status === "labelled" && escalation) {
    append(line, el("strong", { "data-testid": "review-label-name" }, ESCALATION_LABELS[item.label] || "—"));
  } else if (item.status === "labelled") {
    var label = intentName(item.label);
    label.setAttribute("data-testid", "review-label-name");
    append(line, "Labelled ", label);
  } else {
    line.appendChild(document.createTextNode("Dismissed"));
  }
  append(
    line,
    " by ",
    el("strong", { "data-testid": "review-trainer" }, item.trainer_name || "a trainer"),
    item.reviewed_at ? el("span", { class: "muted" }, " · " + formatTime(item.reviewed_at)) : null
  );
  return line;
}

/** "Open the conversation", or why there is none to open (Rasa also keeps senders the hub never had). */
function conversation(item, textId, inbox) {
  if (item.conversation_exists) {
    return conversationLink(item.conversation_id, textId, "review-item__link", "review-conversation", inbox.openConversation);
  }
  return el(
    "span",
    {
      class: "review-item__no-link muted small",
      "data-testid": "review-no-conversation",
      title: "Rasa kept this message, but the hub has no conversation for it (a test chat, or another database).",
    },
    "No conversation to open"
  );
}
