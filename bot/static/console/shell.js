/*
 * Frontline agent console: the queue, conversations, replies, notes and order actions (workspace/), for
 * trainers and supervisors the review inbox (review/: what the bot was unsure about, to label for the next
 * training), and for supervisors the Insight page (insight/: satisfaction, containment, handoffs and waiting
 * times for a period).
 *
 * This module is the shell: signing in and out, GET /api/me, the live socket, and which views a role has.
 * What every area shares (who is signed in, the hub's limits) is in session.js; each area keeps its own state.
 * Every piece of text from customers, the bot or agents is put in the page with textContent / createTextNode,
 * never as HTML (dom.js).
 */

import { api, onSessionEnded } from "./api.js";
import { $ } from "./dom.js";
import { resetInsight, setupInsight } from "./insight/insight.js";
import { setIntentTitles } from "./intent-titles.js";
import { startLive, stopLive } from "./live.js";
import { resetReview, setupReview } from "./review/review.js";
import { currentAgent, signIn, signOut } from "./session.js";
import { resetViews, setupViews, showConversation, startView } from "./views.js";
import {
  handleEvent,
  liveOpened,
  resetWorkspace,
  setupWorkspace,
  startWorkspace,
  stopWorkspace,
} from "./workspace/workspace.js";

function boot() {
  onSessionEnded(signedOut);
  setupWorkspace();
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", onLogout);
  setupViews();
  setupReview(showConversation);
  setupInsight(showConversation);
  checkSession();
}

function checkSession() {
  api("GET", "/api/me")
    .then(function (data) {
      showApp(data.agent, data.limits, data.intent_titles);
    })
    .catch(function (error) {
      if (error.status === 401) {
        return; // signedOut() has shown the login form
      }
      $("boot").textContent = "The hub cannot be reached right now; trying again…";
      setTimeout(checkSession, 3000);
    });
}

/** After signing in: GET /api/me has the hub's limits (the login's answer has only the agent). */
function withLimits(login) {
  if (login.limits) {
    return Promise.resolve(login);
  }
  return api("GET", "/api/me").catch(function () {
    return login; // the default limits, then
  });
}

function onLogin(event) {
  event.preventDefault();
  var error = $("login-error");
  var submit = $("login-submit");
  var username = $("login-username").value.trim();
  var password = $("login-password").value;
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    error.hidden = false;
    return;
  }
  error.hidden = true;
  submit.disabled = true;
  api("POST", "/api/login", { username: username, password: password })
    .then(function (data) {
      $("login-password").value = "";
      return withLimits(data).then(function (me) {
        showApp(me.agent || data.agent, me.limits, me.intent_titles);
      });
    })
    .catch(function (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      $("login-password").select();
    })
    .then(function () {
      submit.disabled = false;
    });
}

function onLogout() {
  // Stop the live updates first, so nothing asks the hub for data while the session ends.
  stopLive();
  stopWorkspace();
  api("POST", "/api/logout", {})
    .catch(function () {
      return null; // signed out here either way
    })
    .then(function () {
      signedOut("");
    });
}

function showApp(agent, limits, titles) {
  signIn(agent, limits);
  setIntentTitles(titles);
  $("boot").hidden = true;
  $("login").hidden = true;
  $("app").hidden = false;
  $("whoami").textContent = agent.display_name + " · " + agent.role;
  document.body.setAttribute("data-role", agent.role);
  startLive({ opened: liveOpened, event: handleEvent, sessionEnded: signedOut });
  startWorkspace();
  startView();
}

/** Back to the login form, with everything of the previous session forgotten. */
function signedOut(message) {
  var wasIn = currentAgent() !== null;
  if (!wasIn && !$("login").hidden) {
    return; // already signed out (a 401 and the socket's close often arrive together)
  }
  signOut();
  stopLive();
  stopWorkspace();
  resetWorkspace();
  resetReview();
  resetInsight();
  resetViews();
  $("boot").hidden = true;
  $("app").hidden = true;
  $("login").hidden = false;
  var error = $("login-error");
  error.textContent = wasIn && message ? message : "";
  error.hidden = !error.textContent; // a fresh page that is simply not signed in shows no error
  $("login-username").focus();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", boot);
} else {
  boot();
}
