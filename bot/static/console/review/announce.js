/* The review inbox's status line, read out by screen readers: what was just labelled, exported or reloaded. */

import { $ } from "../dom.js";

export function announce(text) {
  $("review-announce").textContent = text;
}
