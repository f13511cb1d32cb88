/*
 * Role-based navigation. Trainers and supervisors switch between the queue and the review inbox, supervisors
 * also to Insight; agents only ever have the queue. Trainers, who take no conversations, land on the inbox.
 * `#review`, `#insight` and `#conversation/<id>` in the address open those directly (a link opened in a new tab).
 */

import { $ } from "./dom.js";
import { showInsight } from "./insight/insight.js";
import { showReview } from "./review/review.js";
import { canReview, canSeeInsight, currentAgent } from "./session.js";
import { openConversation } from "./workspace/workspace.js";

/** Once, when the page loads: the tabs. */
export function setupViews() {
  Array.prototype.forEach.call(document.querySelectorAll("#views [data-view]"), function (tab) {
    tab.addEventListener("click", function () {
      showView(tab.getAttribute("data-view"));
    });
  });
}

/** Signed in: the tabs this role has, and the view the address asks for (or the role's own). */
export function startView() {
  $("views").hidden = !canReview();
  $("view-insight").hidden = !canSeeInsight();
  var hash = window.location.hash;
  var match = /^#conversation\/(.+)$/.exec(hash);
  var conversationId = null;
  if (match) {
    try {
      conversationId = decodeURIComponent(match[1]);
    } catch (e) {
      conversationId = null;
    }
  }
  if (conversationId) {
    showView("queue");
    openConversation(conversationId);
  } else if (canSeeInsight() && hash === "#insight") {
    showView("insight");
  } else if (canReview() && (hash === "#review" || currentAgent().role === "trainer")) {
    showView("review");
  } else {
    showView("queue");
  }
}

export function showView(name) {
  if ((name === "review" && !canReview()) || (name === "insight" && !canSeeInsight())) {
    name = "queue";
  }
  $("workspace").hidden = name !== "queue";
  $("review").hidden = name !== "review";
  $("insight").hidden = name !== "insight";
  ["queue", "review", "insight"].forEach(function (view) {
    var tab = $("view-" + view);
    if (view === name) {
      tab.setAttribute("aria-current", "page");
    } else {
      tab.removeAttribute("aria-current");
    }
  });
  if (window.history && window.history.replaceState) {
    var url = window.location.pathname + window.location.search + (name === "queue" ? "" : "#" + name);
    window.history.replaceState(null, "", url);
  }
  if (name === "review") {
    showReview();
  }
  if (name === "insight") {
    showInsight();
  }
}

/** A review item's (or an Insight comment's) conversation, in the console's conversation view; read only
 * unless it is the signed-in agent's own. */
export function showConversation(conversationId) {
  showView("queue");
  openConversation(conversationId);
  var section = $("conversation");
  section.setAttribute("tabindex", "-1");
  section.focus();
}

/** Signed out: no tabs, and the workspace (empty) behind the login form. */
export function resetViews() {
  $("views").hidden = true;
  $("view-insight").hidden = true;
  $("review").hidden = true;
  $("insight").hidden = true;
  $("workspace").hidden = false;
}
