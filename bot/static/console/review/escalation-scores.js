/* Why an escalation item is in the inbox, as chips. */

import { el } from "../dom.js";
import { percent } from "../format.js";

var SCORE_NAMES = { strong_emotion: "strong feeling", needs_person: "needs a person" };

/** Why an escalation item is here, as chips: the feeling, the person probability, the thresholds it came close
 * to, when the customer asked for a person. Text only: the scores come from the hub's JSON. */
export function escalationScores(scores) {
  scores = scores && typeof scores === "object" ? scores : {};
  var chips = el("div", { class: "chips review-item__scores", "aria-label": "Why it is here", "data-testid": "review-scores" });
  function chip(text, testid) {
    chips.appendChild(el("span", { class: "chip", "data-testid": testid }, text));
  }
  var emotion = scores.emotion && typeof scores.emotion === "object" ? scores.emotion : null;
  if (emotion && emotion.level && emotion.level !== "none") {
    chip("Upset: " + String(emotion.level) + (emotion.label ? " (" + String(emotion.label) + ")" : ""), "review-score-emotion");
  }
  if (emotion && emotion.strong !== undefined) {
    chip("strong feeling " + percent(emotion.strong), "review-score-strong");
  }
  if (scores.person !== undefined && scores.person !== null) {
    chip("needs a person " + percent(scores.person), "review-score-person");
  }
  var near = scores.near && typeof scores.near === "object" ? scores.near : {};
  Object.keys(near)
    .sort()
    .forEach(function (name) {
      var value = near[name] || {};
      var label = SCORE_NAMES[name] || String(name).replace(/^topic:/, "topic ");
      chip("Near the threshold: " + label + " " + percent(value.score) + " of " + percent(value.threshold), "review-score-near");
    });
  var asked = scores.asked_for_person && typeof scores.asked_for_person === "object" ? scores.asked_for_person : null;
  if (asked) {
    var later = Number(asked.messages_later) || 1;
    chip("Asked for a person " + later + " message" + (later === 1 ? "" : "s") + " later", "review-score-asked");
  }
  return chips;
}
