/* An intent as the review inbox shows it: its title (intent_titles.yml), the name the training data holds
 * beside it for whoever needs it, and how sure the bot was. */

import { el } from "../dom.js";
import { percent } from "../format.js";
import { intentTitle } from "../intent-titles.js";

/** An intent in words; its name (what the training data holds) in the tooltip and in data-intent. */
export function intentName(name) {
  if (!name) {
    return el("strong", { class: "review-item__intent-title" }, "—");
  }
  return el("strong", { class: "review-item__intent-title", title: name, "data-intent": name }, intentTitle(name));
}

/** "62%", how sure the bot was of its guess. */
export function confidence(item) {
  if (item.confidence === null || item.confidence === undefined) {
    return null;
  }
  return el("span", { class: "review-item__confidence", "data-testid": "review-confidence" }, percent(item.confidence));
}
