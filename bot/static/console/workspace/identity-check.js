/*
 * "I checked who this is": for the agent who has the conversation, when the person has only typed an order
 * number. The agent checks by the shop's other means (postcode and last card digits, a call back) and records how;
 * the hub stores who, when and how (POST /api/conversations/{id}/identity-check), logs it with the conversation,
 * and from then on shows the order's details and offers its actions here.
 */

import { runAction, showActionError } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { append, el } from "../dom.js";

var MIN_HOW = 5; // as bot/core/order_desk.py's MIN_CHECK_NOTE

/** `done()` runs once the check is recorded (the conversation is then reloaded, now verified). */
export function buildIdentityCheck(data, done) {
  var box = el("section", { class: "identity-check", "aria-labelledby": "identity-check-title", "data-testid": "identity-check" });
  var open = el("button", { class: "btn", type: "button", "aria-expanded": "false", "aria-controls": "identity-check-form", "data-testid": "identity-check-open" }, "I checked who this is…");
  var form = el("form", { class: "identity-check__form", id: "identity-check-form", novalidate: true, hidden: true });
  var how = el("input", {
    class: "input",
    id: "identity-check-how",
    type: "text",
    maxlength: 300,
    required: true,
    autocomplete: "off",
    placeholder: "e.g. postcode and last 4 card digits match",
    "data-testid": "identity-check-how",
  });
  var save = el("button", { class: "btn btn--primary", type: "submit", "data-testid": "identity-check-save" }, "Record and unlock");
  var cancel = el("button", { class: "btn", type: "button", "data-testid": "identity-check-cancel" }, "Cancel");
  append(
    form,
    el("label", { class: "field__label", for: "identity-check-how" }, "How did you check who this is?"),
    how,
    append(el("div", { class: "identity-check__buttons" }), cancel, save)
  );
  append(
    box,
    el("h4", { class: "card__subtitle", id: "identity-check-title" }, "Checked who this is another way?"),
    el(
      "p",
      { class: "muted small" },
      "If the customer cannot confirm the order's email with the assistant, check by the shop's other means and " +
        "record how. That shows the order's details and its actions here, and is logged under your name."
    ),
    open,
    form
  );

  open.addEventListener("click", function () {
    form.hidden = false;
    open.hidden = true;
    open.setAttribute("aria-expanded", "true");
    how.focus();
  });
  cancel.addEventListener("click", function () {
    form.hidden = true;
    open.hidden = false;
    open.setAttribute("aria-expanded", "false");
    open.focus();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = how.value.trim();
    if (text.length < MIN_HOW) {
      showActionError(form, "Say how you checked, in a few words.");
      how.focus();
      return;
    }
    runAction(save, form, function () {
      return api("POST", conversationPath(data.conversation.id, "/identity-check"), { how: text });
    }).then(function (result) {
      if (result) {
        done();
      }
    });
  });
  return box;
}
