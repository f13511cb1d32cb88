/* The details column beside the open conversation: the handoff packet, the order and the private notes. */

import { $, append, clear, el } from "../dom.js";
import { canHandle } from "../session.js";
import { addNote, buildNotesCard } from "./notes.js";
import { buildOrderActions } from "./order-actions.js";
import { isVerified, renderOrderInfo, renderOrderLog } from "./order-info.js";
import { renderPacket } from "./packet.js";

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
    var orderCard = $("order-card");
    append(orderCard, el("div", { id: "order-info" }), el("div", { id: "order-log" }));
    if (mine && canHandle() && isVerified(data)) {
      orderCard.appendChild(buildOrderActions(data, reload));
    }
  }
  renderPacket(data);
  renderOrderInfo(data);
  renderOrderLog(data);
  data.notes.forEach(addNote);
}
