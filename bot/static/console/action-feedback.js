/* What an action did: one error line at a time next to the control that failed, or a short success line. */

import { el } from "./dom.js";

/**
 * One error line at a time, placed right after the control that failed (and the single element with
 * data-testid="action-error", so it is unambiguous which action it belongs to).
 */
export function showActionError(anchor, message) {
  clearActionError();
  var node = el("p", { class: "action-error", role: "alert", "data-testid": "action-error" }, message);
  if (anchor && anchor.parentNode) {
    anchor.parentNode.insertBefore(node, anchor.nextSibling);
  }
}

export function clearActionError() {
  Array.prototype.forEach.call(document.querySelectorAll("[data-testid=action-error]"), function (node) {
    node.remove();
  });
}

export function showSuccess(anchor, message) {
  var old = anchor.parentNode && anchor.parentNode.querySelector(".action-success");
  if (old) {
    old.remove();
  }
  var node = el("p", { class: "action-success", role: "status" }, message);
  anchor.parentNode.insertBefore(node, anchor.nextSibling);
  setTimeout(function () {
    node.remove();
  }, 8000);
}

/** Run an API call from a button: disabled while it runs, errors shown next to `anchor`. */
export function runAction(button, anchor, work) {
  clearActionError();
  button.disabled = true;
  return work()
    .catch(function (error) {
      showActionError(anchor, error.message || "That did not work.");
      return null;
    })
    .then(function (result) {
      button.disabled = false;
      return result;
    });
}
