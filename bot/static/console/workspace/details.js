/* The details column beside the open conversation: the handoff packet, the order and the private notes. */

import { $, append, clear, el } from "../dom.js";
import { canHandle } from "../session.js";
import { buildIdentityCheck } from "./identity-check.js";
import { addNote, buildNotesCard } from "./notes.js";
import { buildOrderActions } from "./order-actions.js";
import { isVerified, renderOrderInfo, renderOrderLog } from "./order-info.js";
import { renderPacket } from "./packet.js";

var controlsKey = null; // what the order controls were built for: rebuilt only when that changes

/** `rebuild`: the cards are made anew (another conversation, or my own now); `reload` after an order action. */
export function renderDetails(data, mine, rebuild, reload) {
  var details = $("details");
  details.hidden = false;
  if (rebuild) {
    clear(details);
    append(
      details,
      el("section", { class: "card", id: "packet-card", "data-testid": "packet" }),
      el("section", { class: "card", id: "order-card", "data-testid": "order" }),
      buildNotesCard()
    );
    append($("order-card"), el("div", { id: "order-info" }), el("div", { id: "order-log" }), el("div", { id: "order-controls" }));
    controlsKey = null;
  }
  renderPacket(data);
  renderOrderInfo(data);
  renderOrderLog(data);
  renderOrderControls(data, mine, reload);
  data.notes.forEach(addNote);
}

/**
 * For the agent who has the conversation: the money actions once the person is verified, the "I checked who this
 * is" step before that. Rebuilt only when what they offer changes (after an action), so a reload caused by a
 * message never eats a half-typed amount or note.
 */
function renderOrderControls(data, mine, reload) {
  var kind = "";
  if (mine && canHandle() && data.order) {
    if (isVerified(data)) {
      kind = "act";
    } else if (!(data.verification && data.verification.verified)) {
      kind = "check";
    }
  }
  var key = kind === "act" ? "act|" + JSON.stringify([data.order.status, data.offers, data.limits]) : kind;
  if (key === controlsKey) {
    return;
  }
  controlsKey = key;
  var slot = clear($("order-controls"));
  if (kind === "act") {
    slot.appendChild(buildOrderActions(data, reload));
  } else if (kind === "check") {
    slot.appendChild(buildIdentityCheck(data, reload));
  }
}
