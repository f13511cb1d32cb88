/* The result cards above the inbox (the last export, the last model reload): one of each, the newest. */

import { $ } from "../dom.js";

export function replaceResult(testid, card) {
  var results = $("review-results");
  var old = results.querySelector("[data-testid=" + testid + "]");
  if (old) {
    old.replaceWith(card);
  } else {
    results.appendChild(card);
  }
}
