/*
 * The questions the hub may ask after a conversation (bot/core/feedback_flow.py FEEDBACK_PROMPTS), answered in
 * the message that asks: csat is 1–5 stars, nps 0–10 "how likely are you to recommend us"; then an optional
 * comment. One `rating` frame per answer, naming the question and the request it answers. The thank-you is the
 * hub's (a message everyone sees, on every channel): the widget only says what was chosen and sent.
 */

import { el } from "../console/dom.js";
import { sendFrame } from "./connection.js";
import { maxChars, showError, ui } from "./panel.js";
import { KEYS, readJson, storageSet } from "./storage.js";

var QUESTIONS = {
  csat: { min: 1, max: 5 },
  nps: { min: 0, max: 10 },
};

var pending = []; // answers waiting for the hub's "rated", oldest first (the hub answers frames in order)

/** The rating box for a rating request message, or null for a question this widget does not know. */
export function buildRating(messageNode, messageId, payload) {
  var question = payload.question === undefined || payload.question === null ? "csat" : payload.question;
  if (!Object.prototype.hasOwnProperty.call(QUESTIONS, question)) {
    return null;
  }
  messageNode.classList.add("fl-msg--rating");
  var box = el("div", { class: "fl-rating", "data-question": question });
  var done = el("p", { class: "fl-rating-done", "data-testid": "fl-rating-done", role: "status", hidden: true });
  if (ratedIds().indexOf(messageId) >= 0) {
    done.textContent = question === "nps" ? "You have answered this question." : "You have rated this conversation.";
    done.hidden = false;
    box.appendChild(done);
    return box;
  }
  box.classList.add("is-open");
  var form = el("div", { class: "fl-rating-form", hidden: true });
  var chosen = el("p", { class: "fl-rating-chosen", "data-testid": "fl-rating-chosen" });
  var comment = el("textarea", {
    class: "fl-rating-comment",
    rows: 2,
    maxlength: maxChars(),
    placeholder: "Anything you'd like to add? (optional)",
    "aria-label": "Comment (optional)",
    "data-testid": "fl-rating-comment",
  });
  var actions = el("div", { class: "fl-rating-actions" });
  var skip = el("button", { class: "fl-rating-skip", type: "button", "data-testid": "fl-rating-skip" }, "Skip");
  var send = el("button", { class: "fl-rating-send", type: "button", "data-testid": "fl-rating-send" }, "Send");
  actions.append(skip, send);
  form.append(chosen, comment, actions);

  var range = QUESTIONS[question];
  var score = null;
  var scale = question === "nps" ? buildNpsScale(pick) : buildStars(pick);
  box.append(scale, form, done);

  function pick(value) {
    score = value;
    scale.querySelectorAll("[data-score]").forEach(function (button) {
      var n = Number(button.dataset.score);
      // Stars light up to the one chosen; on the 0–10 scale only the chosen number does.
      button.classList.toggle("is-on", question === "csat" ? n <= value : n === value);
      button.setAttribute("aria-pressed", n === value ? "true" : "false");
    });
    chosen.textContent = "You chose " + value + " out of " + range.max + ".";
    form.hidden = false;
    comment.focus();
  }

  function submit(withComment) {
    if (score === null) {
      showError(question === "csat" ? "Pick a number of stars first." : "Pick a number from 0 to 10 first.");
      return;
    }
    var text = withComment ? comment.value.trim() : "";
    var frame = { type: "rating", question: question, score: score, message_id: messageId };
    if (text) {
      frame.comment = text;
    }
    if (!sendFrame(frame)) {
      showError("You're offline right now. Try again in a moment.");
      return;
    }
    setBusy(true);
    // Waiting for "rated": no longer open, so a newer request (the next question) does not remove it.
    box.classList.remove("is-open");
    box.classList.add("is-sending");
    var sentScore = score;
    pending.push({
      finish: function (accepted) {
        rememberRated(messageId);
        box.classList.remove("is-sending");
        scale.remove();
        form.remove();
        done.textContent = answeredText(question, sentScore, accepted);
        done.hidden = false;
      },
      fail: function () {
        setBusy(false);
        box.classList.remove("is-sending");
        box.classList.add("is-open");
        refreshRatings(); // a newer request may have come meanwhile: only that one can be answered
      },
    });
  }

  function setBusy(busy) {
    send.disabled = busy;
    skip.disabled = busy;
    scale.querySelectorAll("button").forEach(function (button) {
      button.disabled = busy;
    });
  }

  send.addEventListener("click", function () {
    submit(true);
  });
  skip.addEventListener("click", function () {
    submit(false);
  });
  return box;
}

function answeredText(question, score, accepted) {
  if (!accepted) {
    return question === "nps" ? "You have answered this already." : "This conversation has been rated already.";
  }
  return (question === "nps" ? "You answered " : "You rated us ") + score + " out of " + QUESTIONS[question].max + ".";
}

/** Only the newest rating request can be answered: older, unanswered ones lose their scale. */
export function refreshRatings() {
  var open = ui.messages.querySelectorAll(".fl-msg--rating .fl-rating.is-open");
  for (var i = 0; i < open.length - 1; i += 1) {
    open[i].classList.remove("is-open");
    open[i].remove();
  }
}

/** The hub's "rated" for the oldest answer waiting. */
export function ratingAnswered(accepted) {
  var item = pending.shift();
  if (item) {
    item.finish(accepted === true);
  }
}

/** The hub refused the oldest answer waiting (bad_rating): it can be given again. */
export function ratingRefused() {
  var item = pending.shift();
  if (item) {
    item.fail();
  }
}

/** The connection dropped before "rated" came: the customer may send those answers again. */
export function ratingsInterrupted() {
  var items = pending;
  pending = [];
  items.forEach(function (item) {
    item.fail();
  });
}

// Answered requests are remembered by message id: each question is its own message, so answering the stars
// never marks the "recommend us" question that follows as answered.
function ratedIds() {
  var ids = readJson(KEYS.rated, []);
  return Array.isArray(ids) ? ids : [];
}

function rememberRated(id) {
  if (typeof id !== "number") {
    return;
  }
  var ids = ratedIds();
  if (ids.indexOf(id) < 0) {
    ids.push(id);
    storageSet(KEYS.rated, JSON.stringify(ids.slice(-50)));
  }
}

function buildStars(onPick) {
  var stars = el("div", { class: "fl-stars", role: "group", "aria-label": "Rate us from 1 to 5 stars" });
  for (var n = QUESTIONS.csat.min; n <= QUESTIONS.csat.max; n += 1) {
    stars.appendChild(scoreButton("fl-star", n, n + (n === 1 ? " star" : " stars"), "★", onPick));
  }
  moveFocusWithArrows(stars);
  return stars;
}

/** 0–10 in two rows (0–5 above, 6–10 below, so 10 ends the scale on the right), captioned at both ends. */
function buildNpsScale(onPick) {
  var wrap = el("div", { class: "fl-nps" });
  var group = el("div", {
    class: "fl-nps-scale",
    role: "group",
    "aria-label": "How likely are you to recommend us? From 0, not likely, to 10, very likely",
    "data-testid": "fl-nps-scale",
  });
  for (var n = QUESTIONS.nps.min; n <= QUESTIONS.nps.max; n += 1) {
    var meaning = n === 0 ? ", not likely" : n === 10 ? ", very likely" : "";
    group.appendChild(scoreButton("fl-nps-score", n, n + " out of 10" + meaning, String(n), onPick));
  }
  moveFocusWithArrows(group);
  // The group's label says what the ends mean; the captions, by 0 and by 10, are for the eye.
  wrap.append(
    el("p", { class: "fl-nps-caption fl-nps-caption--low", "aria-hidden": "true" }, "Not likely"),
    group,
    el("p", { class: "fl-nps-caption fl-nps-caption--high", "aria-hidden": "true" }, "Very likely")
  );
  return wrap;
}

function scoreButton(kind, score, label, text, onPick) {
  var button = el(
    "button",
    { class: kind, type: "button", "data-testid": kind, "data-score": score, "aria-label": label, "aria-pressed": "false" },
    text
  );
  button.addEventListener("click", function () {
    onPick(score);
  });
  return button;
}

/** Arrow keys move to the previous or next score (as in a radio group), Home and End to the scale's ends. */
function moveFocusWithArrows(group) {
  group.addEventListener("keydown", function (event) {
    var buttons = Array.prototype.slice.call(group.querySelectorAll("button"));
    var at = buttons.indexOf(document.activeElement);
    var step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[event.key];
    var last = buttons.length - 1;
    var to = event.key === "Home" ? 0 : event.key === "End" ? last : step ? at + step : null;
    if (at < 0 || to === null) {
      return;
    }
    event.preventDefault();
    buttons[Math.max(0, Math.min(last, to))].focus();
  });
}
