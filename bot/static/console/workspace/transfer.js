/* "Transfer to…": hand a conversation of mine to another agent or supervisor. */

import { runAction } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { $, el } from "../dom.js";
import { currentAgent, isHandler } from "../session.js";
import { currentId } from "./selection.js";

var agents = [];

/** The picker; `transferred(conversationId)` runs once the hub has moved the conversation. */
export function buildTransfer(conversationId, anchor, transferred) {
  var select = el("select", { class: "select", "data-testid": "transfer", "aria-label": "Transfer to another agent" });
  select.appendChild(el("option", { value: "" }, "Transfer to…"));
  agents
    .filter(function (agent) {
      return agent.id !== currentAgent().id && isHandler(agent.role);
    })
    .forEach(function (agent) {
      select.appendChild(
        el("option", { value: agent.id }, agent.display_name + (agent.online ? " (online)" : " (offline)"))
      );
    });
  select.addEventListener("change", function () {
    if (!select.value) {
      return;
    }
    var target = Number(select.value);
    runAction(select, anchor, function () {
      return api("POST", conversationPath(conversationId, "/transfer"), { agent_id: target });
    }).then(function (result) {
      select.value = "";
      if (result) {
        transferred(conversationId);
      }
    });
  });
  return select;
}

/** Who is there and online; an untouched picker on the page is drawn again with them. */
export function loadAgents(transferred) {
  return api("GET", "/api/agents")
    .then(function (data) {
      agents = Array.isArray(data.agents) ? data.agents : [];
      var select = document.querySelector("[data-testid=transfer]");
      if (select && select.value === "" && currentId()) {
        select.replaceWith(buildTransfer(currentId(), $("conv-header"), transferred));
      }
    })
    .catch(function () {
      return null;
    });
}
