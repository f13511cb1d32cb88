/*
 * Where the conversation stands (bot → queued → agent → resolved → bot) and what the customer sees of it: the
 * status line under the title (one line, the key fact first), the queue card while waiting, and the header's
 * person button: "Talk to a person" with the bot, "Leave the queue" while queued, none with an agent.
 */

import { clear, el } from "../console/dom.js";
import { ui } from "./panel.js";

var current = "bot";
var agentName = null;
var queue = null; // {position, estimated_wait_seconds, agents_online, open_now} while queued

export function conversationState() {
  return current;
}

/** A `state` frame (or the welcome's state, which carries no agent or queue: what we know is kept). */
export function setConversationState(state, agent, queueStatus) {
  if (typeof state === "string") {
    current = state;
  }
  if (agent && typeof agent.name === "string") {
    agentName = agent.name;
  }
  queue = current === "queued" ? queueStatus || queue : null;
  render();
}

/** The agent's name as their messages carry it (after a reload the state frame may come later). */
export function noteAgentName(name) {
  agentName = name;
  if (current === "agent") {
    render();
  }
}

/** Another conversation: nobody has talked in it yet. */
export function forgetAgent() {
  agentName = null;
}

function render() {
  ui.panel.setAttribute("data-state", current);
  ui.status.textContent = statusLine();
  ui.status.title = ui.status.textContent; // the whole line on hover, should a narrow screen cut it short
  showPersonButton(current === "queued" ? ui.leaveQueue : current === "agent" ? null : ui.human);
  renderQueueCard();
}

function statusLine() {
  switch (current) {
    case "queued":
      if (!queue) {
        return "Waiting for our team…";
      }
      if (!teamAvailable(queue)) {
        return "No one from our team is online";
      }
      return (typeof queue.position === "number" ? "Number " + queue.position + " in the queue" : "In the queue") +
        " · " + waitText(queue.estimated_wait_seconds);
    case "agent":
      return agentName ? "Chatting with " + agentName : "Chatting with our team";
    default:
      return "Frontline assistant";
  }
}

/** The one person button the state allows; keyboard focus moves with it rather than getting lost. */
function showPersonButton(visible) {
  var hadFocus = document.activeElement === ui.human || document.activeElement === ui.leaveQueue;
  [ui.human, ui.leaveQueue].forEach(function (button) {
    button.hidden = button !== visible;
  });
  if (hadFocus && document.activeElement !== visible) {
    (visible || ui.input).focus();
  }
}

function renderQueueCard() {
  var card = ui.queueCard;
  card.hidden = current !== "queued";
  if (card.hidden) {
    clear(card);
    return;
  }
  var lines = queueCardLines();
  clear(card);
  card.append(
    el("p", { class: "fl-queue-title", "data-testid": "fl-queue-title" }, lines.title),
    el("p", { class: "fl-queue-detail", "data-testid": "fl-queue-detail" }, lines.detail),
    el("p", { class: "fl-queue-hint" }, lines.hint)
  );
}

function queueCardLines() {
  var hint = "Write here while you wait: the team will see your messages.";
  if (!queue) {
    return { title: "You're in the queue", detail: "Someone from our team will be with you soon.", hint: hint };
  }
  if (!teamAvailable(queue)) {
    return {
      title: queue.open_now === false ? "We're outside our opening hours" : "Our team is away right now",
      detail: "Leave your message here and the next person from our team will pick it up.",
      hint: "Or leave the queue to carry on with the assistant.",
    };
  }
  var place = typeof queue.position === "number" ? "You're number " + queue.position + " in the queue" : "You're in the queue";
  return { title: place, detail: "Estimated wait: " + waitText(queue.estimated_wait_seconds) + ".", hint: hint };
}

function teamAvailable(status) {
  return Boolean(status.agents_online) && status.open_now !== false && typeof status.estimated_wait_seconds === "number";
}

function waitText(seconds) {
  var minutes = Math.max(1, Math.ceil(seconds / 60));
  if (minutes < 60) {
    return "about " + minutes + " min";
  }
  var hours = Math.round(minutes / 60);
  return "about " + hours + (hours === 1 ? " hour" : " hours");
}
