/* One message in the review inbox: why it is there, the bot's guess, the text, and its form or verdict. */

import { conversationLink } from "../conversation-link.js";
import { append, badge, el } from "../dom.js";
import { formatDate, formatTime, percent } from "../format.js";
import { escalationScores } from "./escalation-scores.js";
import { ESCALATION_LABELS, escalationForm, reviewForm } from "./label-forms.js";

var REVIEW_REASONS = {
  nlu_fallback: "Fell back",
  out_of_scope: "Out of scope",
  low_confidence: "Unsure",
  not_understood: "Handed over: not understood",
  missed_escalation: "Missed handoff?",
  near_threshold: "Nearly handed over",
};
var REVIEW_REASON_HINTS = {
  nlu_fallback: "No intent was confident enough, so the bot gave its fallback answer",
  out_of_scope: "The bot took it for something the shop does not handle",
  low_confidence: "The bot answered, but with less confidence than the review threshold",
  not_understood: "The customer wrote this shortly before the bot handed them to a person for not understanding",
  missed_escalation: "The customer was upset here, the bot did not hand over, and soon after they asked for a person",
  near_threshold: "The scores came close to a threshold for handing over, and the bot did not hand over",
};

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
  var reason = badge("review", item.reason, REVIEW_REASONS[item.reason] || item.reason);
  reason.setAttribute("data-testid", "review-reason");
  reason.title = REVIEW_REASON_HINTS[item.reason] || "";
  var escalation = item.kind === "escalation";
  var predicted = el("span", { class: "review-item__predicted", "data-testid": "review-predicted" });
  if (escalation) {
    append(predicted, el("span", { class: "muted" }, "Intent "), el("code", { class: "mono" }, item.predicted_intent || "—"));
  } else if (item.predicted_intent) {
    append(
      predicted,
      el("span", { class: "muted" }, "Bot's guess "),
      el("code", { class: "mono" }, item.predicted_intent),
      item.confidence !== null && item.confidence !== undefined
        ? el("span", { class: "review-item__confidence", "data-testid": "review-confidence" }, percent(item.confidence))
        : null
    );
  } else {
    predicted.appendChild(el("span", { class: "muted" }, "No guess"));
  }
  var when = el(
    "time",
    { class: "review-item__when muted small", datetime: item.created_at, title: formatDate(item.created_at) },
    formatTime(item.created_at)
  );
  var link = conversationLink(item.conversation_id, textId, "review-item__link", "review-conversation", inbox.openConversation);
  append(top, reason, predicted, when, link);
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
    append(line, el("strong", { "data-testid": "review-label-name" }, ESCALATION_LABELS[item.label] || item.label || "—"));
  } else if (item.status === "labelled") {
    append(line, "Labelled ", el("code", { class: "mono", "data-testid": "review-label-name" }, item.label || "—"));
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
