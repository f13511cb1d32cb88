/*
 * "Reload model": load the newest trained model into Rasa. The hub runs it as a job (POST answers 202 at once;
 * GET says how it goes) and holds customers' messages while Rasa loads, 10-60 s: the button stays disabled
 * until it is done.
 */

import { clearActionError, showActionError } from "../action-feedback.js";
import { api } from "../api.js";
import { $, append, el } from "../dom.js";
import { canReview } from "../session.js";
import { announce } from "./announce.js";
import { replaceResult } from "./results.js";

var RELOAD_POLL_MS = 1000; // how often a model reload under way is asked about

var poll = null; // the next look at a model reload under way

export function reloadModel() {
  clearActionError();
  showReloading(true);
  announce("Reloading the model: this can take up to a minute.");
  api("POST", "/api/model/reload", {})
    .then(function (data) {
      followReload(data && data.reload);
    })
    .catch(function (error) {
      if (error.status === 409) {
        announce("Another reload is already under way: waiting for it to finish.");
        followReload(null);
        return;
      }
      showReloading(false);
      announce("");
      if (error.status !== 401) {
        showActionError($("review-tools"), error.message || "The model could not be reloaded.");
      }
    });
}

/** Stop following a reload (the session ends) and put the button back. */
export function resetModelReload() {
  clearTimeout(poll);
  poll = null;
  showReloading(false);
}

/** A reload under way (started here, by someone else, or before this page was loaded): wait for its end. */
export function checkReload() {
  if (!canReview() || poll) {
    return;
  }
  api("GET", "/api/model/reload")
    .then(function (data) {
      if (data && data.reload && data.reload.state === "loading" && !poll) {
        announce("A model reload is under way.");
        followReload(data.reload);
      }
    })
    .catch(function () {
      return null;
    });
}

function followReload(status) {
  clearTimeout(poll);
  poll = null;
  if (!canReview()) {
    return;
  }
  if (!status || status.state === "loading") {
    showReloading(true);
    poll = setTimeout(function () {
      api("GET", "/api/model/reload")
        .then(function (data) {
          followReload(data && data.reload);
        })
        .catch(function (error) {
          if (error.status === 0) {
            followReload(null); // the hub did not answer this time: ask again
            return;
          }
          poll = null;
          showReloading(false);
          if (error.status !== 401) {
            showActionError($("review-tools"), error.message || "The reload's progress could not be read.");
          }
        });
    }, RELOAD_POLL_MS);
    return;
  }
  showReloading(false);
  if (status.state === "done") {
    renderReload(status);
  } else if (status.state === "failed") {
    announce("");
    showActionError($("review-tools"), "The model did not load: " + (status.error || "Rasa refused it") + ".");
  }
}

function showReloading(on) {
  var button = $("model-reload");
  button.disabled = on;
  button.textContent = on ? "Reloading the model…" : "Reload model";
  if (on) {
    button.setAttribute("aria-busy", "true");
  } else {
    button.removeAttribute("aria-busy");
  }
}

function renderReload(status) {
  var paused = Number(status.paused_seconds);
  var card = el("section", { class: "card review-result", "data-testid": "reload-result", "aria-labelledby": "reload-title" });
  var text = el("p", { class: "small" });
  append(
    text,
    "Rasa now answers with ",
    el("code", { class: "mono", "data-testid": "reload-model" }, status.model || "the new model"),
    status.paused_seconds === null || status.paused_seconds === undefined || isNaN(paused)
      ? "."
      : ". Customers' messages waited " + paused.toFixed(1) + " s while it loaded."
  );
  append(card, el("h2", { class: "card__title", id: "reload-title" }, "Model reloaded"), text);
  replaceResult("reload-result", card);
  announce("Model reloaded: " + (status.model || "the new model") + ".");
}
