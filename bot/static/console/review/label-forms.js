/*
 * What a trainer does with an open item: an intent's Label (an existing intent or a new name) or Dismiss, an
 * escalation's "Needs a person", "Fine" or Dismiss. The item leaves the list once the hub has it. The intent
 * field starts empty: the bot's guess is offered beside it ("Use this"), so one click never confirms a wrong one.
 */

import { clearActionError, showActionError } from "../action-feedback.js";
import { api } from "../api.js";
import { append, el } from "../dom.js";
import { intentTitle } from "../intent-titles.js";
import { announce } from "./announce.js";
import { confidence, intentName } from "./intent-name.js";

// An escalation item's verdict (bot/escalation_review.py LABELS), instead of an intent.
export var ESCALATION_LABELS = { needs_person: "Needs a person", fine: "Fine" };
var INTENT_NAME = /^[a-z][a-z0-9_]{1,63}$/; // as bot/review_inbox.py checks it (the hub has the last word)

/*
 * `inbox` is what the form needs of the inbox: knownIntent(name), whether the domain has that intent, and
 * reviewed(item, node, status), the item done.
 */

/** The intent picker (the domain's intents, or a new name), Label and Dismiss, for an open item. */
export function reviewForm(item, node, textId, inbox) {
  var form = el("form", { class: "review-item__form", novalidate: true });
  var inputId = "review-intent-" + item.id;
  var hintId = "review-hint-" + item.id;
  var input = el("input", {
    class: "input mono review-item__intent",
    id: inputId,
    type: "text",
    list: "review-intents",
    value: "",
    maxlength: 64,
    autocomplete: "off",
    autocapitalize: "none",
    spellcheck: "false",
    placeholder: "intent_name",
    "aria-describedby": hintId + " " + textId,
    "data-testid": "review-intent",
  });
  var hint = el("span", { class: "review-item__hint muted small", id: hintId, "data-testid": "review-hint" });
  var labelButton = el("button", { class: "btn btn--primary", type: "submit", "data-testid": "review-label" }, "Label");
  var dismissButton = el("button", { class: "btn", type: "button", "data-testid": "review-dismiss" }, "Dismiss");
  labelButton.setAttribute("aria-describedby", textId);
  dismissButton.setAttribute("aria-describedby", textId);
  var field = el("div", { class: "review-item__field" });
  append(field, el("label", { class: "review-item__label", for: inputId }, "Intent"), input);
  append(form, suggestions(item, function (name) {
    input.value = name;
    updateHint();
    input.focus();
  }), field, labelButton, dismissButton, hint);

  function updateHint() {
    var name = input.value.trim();
    if (!name) {
      hint.textContent = "Pick an intent from the list or type a new name.";
    } else if (inbox.knownIntent(name)) {
      hint.textContent = "Known intent: " + intentTitle(name) + ".";
    } else if (!INTENT_NAME.test(name)) {
      hint.textContent = "A new intent's name: 2-64 lower-case letters, digits and underscores.";
    } else {
      hint.textContent = "A new intent: it is exported apart, until someone adds it to domain.yml.";
    }
  }
  updateHint();
  input.addEventListener("input", updateHint);

  var buttons = [labelButton, dismissButton];
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var intent = input.value.trim();
    if (!intent) {
      showActionError(form, "Pick or type the intent this message should have been.");
      input.focus();
      return;
    }
    reviewAction(item, node, form, buttons, "/label", { intent: intent }, input, inbox).then(function (done) {
      if (done) {
        announce("Labelled “" + shortText(item.text) + "” as " + intentTitle(intent) + ".");
      }
    });
  });
  dismissButton.addEventListener("click", function () {
    reviewAction(item, node, form, buttons, "/dismiss", {}, null, inbox).then(function (done) {
      if (done) {
        announce("Dismissed “" + shortText(item.text) + "”.");
      }
    });
  });
  return form;
}

/**
 * The bot's guesses as suggestions, each with a "Use this" that fills the field (`use(name)`) and no more:
 * out of scope (and its next best guess), or the intent it guessed with how sure it was.
 */
function suggestions(item, use) {
  var guesses = [];
  if (item.reason === "out_of_scope") {
    guesses.push({ lead: "The bot took it for: ", name: "out_of_scope", confidence: null });
    if (item.predicted_intent) {
      guesses.push({ lead: "Its next best guess: ", name: item.predicted_intent, confidence: item.confidence });
    }
  } else if (item.predicted_intent) {
    guesses.push({ lead: "The bot guessed: ", name: item.predicted_intent, confidence: item.confidence });
  }
  var box = el("div", { class: "review-item__suggestions", "data-testid": "review-suggestions" });
  if (!guesses.length) {
    box.appendChild(el("p", { class: "review-item__suggestion muted" }, "The bot had no guess for this message."));
  }
  guesses.forEach(function (guess, index) {
    var id = "review-guess-" + item.id + "-" + index;
    var line = el("p", { class: "review-item__suggestion", "data-testid": "review-suggestion", "data-intent": guess.name });
    var words = el("span", { id: id });
    append(words, el("span", { class: "muted" }, guess.lead), intentName(guess.name),
      guess.confidence === null ? null : " ", confidence(guess));
    var button = el("button", { class: "btn btn--small", type: "button", "data-testid": "review-use-guess",
      "aria-describedby": id }, "Use this");
    button.addEventListener("click", function () {
      use(guess.name);
    });
    append(line, words, button);
    box.appendChild(line);
  });
  return box;
}

/** "Needs a person", "Fine" and Dismiss, for an open escalation item (it takes no intent). */
export function escalationForm(item, node, textId, inbox) {
  var form = el("div", { class: "review-item__form", role: "group", "aria-label": "Should a person have stepped in?" });
  var question = el("span", { class: "review-item__label" }, "Should a person have stepped in?");
  var buttons = Object.keys(ESCALATION_LABELS).map(function (label) {
    var button = el(
      "button",
      {
        class: label === "needs_person" ? "btn btn--primary" : "btn",
        type: "button",
        "data-testid": label === "needs_person" ? "review-needs-person" : "review-fine",
        "aria-describedby": textId,
      },
      ESCALATION_LABELS[label]
    );
    button.addEventListener("click", function () {
      reviewAction(item, node, form, buttons, "/label", { label: label }, null, inbox).then(function (done) {
        if (done) {
          announce("Labelled “" + shortText(item.text) + "”: " + ESCALATION_LABELS[label] + ".");
        }
      });
    });
    return button;
  });
  var dismissButton = el("button", { class: "btn", type: "button", "data-testid": "review-dismiss", "aria-describedby": textId }, "Dismiss");
  buttons.push(dismissButton);
  dismissButton.addEventListener("click", function () {
    reviewAction(item, node, form, buttons, "/dismiss", {}, null, inbox).then(function (done) {
      if (done) {
        announce("Dismissed “" + shortText(item.text) + "”.");
      }
    });
  });
  append(form, question);
  buttons.forEach(function (button) {
    form.appendChild(button);
  });
  return form;
}

/** Label or dismiss; the item leaves the list and the counts follow. Errors (a bad name: 422) go by the item. */
function reviewAction(item, node, form, buttons, action, body, input, inbox) {
  clearActionError();
  buttons.forEach(function (button) {
    button.disabled = true;
  });
  return api("POST", "/api/review/" + encodeURIComponent(item.id) + action, body)
    .then(function (result) {
      var updated = (result && result.item) || {};
      inbox.reviewed(item, node, updated.status || (action === "/label" ? "labelled" : "dismissed"));
      return true;
    })
    .catch(function (error) {
      buttons.forEach(function (button) {
        button.disabled = false;
      });
      if (error.status !== 401) {
        showActionError(form, error.message || "That did not work.");
        if (input) {
          input.focus();
        }
      }
      return false;
    });
}

function shortText(text) {
  var value = String(text || "").replace(/\s+/g, " ").trim();
  return value.length > 48 ? value.slice(0, 47) + "…" : value;
}
