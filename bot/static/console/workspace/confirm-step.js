/*
 * The step between pressing a money button and money moving: a modal <dialog> in the page (never the browser's
 * window.confirm) that says what will happen, to which order, for how much and where the money goes. Nothing is
 * sent until the agent confirms; "Go back", Esc or closing it sends nothing. Focus starts on the safe choice and
 * returns to the button that opened it.
 */

import { append, el, facts } from "../dom.js";

/**
 * Ask the agent to confirm. `options`: title, rows ([label, value] pairs), note (one line under them),
 * confirmLabel, backLabel, danger (a red confirm button). Resolves true only when confirmed.
 */
export function confirmStep(options) {
  var opener = document.activeElement;
  return new Promise(function (resolve) {
    var dialog = el("dialog", {
      class: "confirm-step",
      "aria-labelledby": "confirm-step-title",
      "aria-describedby": "confirm-step-facts",
      "data-testid": "confirm-step",
    });
    var back = el("button", { class: "btn", type: "button", "data-testid": "confirm-back" }, options.backLabel || "Go back");
    var yes = el(
      "button",
      { class: "btn " + (options.danger ? "btn--danger" : "btn--primary"), type: "button", "data-testid": "confirm-yes" },
      options.confirmLabel
    );
    var details = facts(options.rows || []);
    details.id = "confirm-step-facts";
    append(
      dialog,
      el("h2", { class: "confirm-step__title", id: "confirm-step-title" }, options.title),
      details,
      options.note ? el("p", { class: "confirm-step__note" }, options.note) : null,
      append(el("div", { class: "confirm-step__buttons" }), back, yes)
    );

    var answered = false;
    function finish(answer) {
      if (answered) {
        return;
      }
      answered = true;
      if (dialog.open) {
        dialog.close();
      }
      dialog.remove();
      if (opener && typeof opener.focus === "function" && document.contains(opener)) {
        opener.focus();
      }
      resolve(answer);
    }
    back.addEventListener("click", function () {
      finish(false);
    });
    yes.addEventListener("click", function () {
      finish(true);
    });
    dialog.addEventListener("cancel", function (event) {
      event.preventDefault(); // Esc: we close it ourselves, so the promise always settles
      finish(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    back.focus();
  });
}
