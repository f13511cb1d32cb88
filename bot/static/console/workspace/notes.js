/* The agents' private notes on the open conversation: the list (each note once) and the form. */

import { runAction, showActionError } from "../action-feedback.js";
import { api, conversationPath } from "../api.js";
import { $, append, el, linkified } from "../dom.js";
import { formatTime } from "../format.js";
import { maxNoteChars } from "../session.js";
import { currentId } from "./selection.js";

var noteIds = new Set();

export function resetNotes() {
  noteIds = new Set();
}

export function buildNotesCard() {
  var card = el("section", { class: "card", id: "notes-card" });
  card.appendChild(el("h3", { class: "card__title" }, "Private notes"));
  card.appendChild(el("p", { class: "muted small" }, "Only agents see these."));
  card.appendChild(el("ul", { class: "notes", id: "notes", "data-testid": "notes" }));
  var form = el("form", { class: "note-form", novalidate: true });
  var input = el("textarea", {
    class: "textarea",
    rows: 2,
    maxlength: maxNoteChars(),
    placeholder: "Add a note for the team…",
    "aria-label": "Private note",
    "data-testid": "note-input",
  });
  var send = el("button", { class: "btn", type: "submit", "data-testid": "note-send" }, "Add note");
  append(form, input, send);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      showActionError(send, "Write the note first.");
      return;
    }
    var id = currentId();
    runAction(send, send, function () {
      return api("POST", conversationPath(id, "/notes"), { text: text });
    }).then(function (result) {
      if (result && result.note) {
        input.value = "";
        if (currentId() === id) {
          addNote(result.note);
        }
      }
    });
  });
  card.appendChild(form);
  return card;
}

export function addNote(note) {
  var list = $("notes");
  if (!list || !note || noteIds.has(note.id)) {
    return;
  }
  noteIds.add(note.id);
  var item = el("li", { class: "note", "data-id": note.id });
  var head = el("div", { class: "note__head" });
  append(head, el("strong", null, note.agent_name || "Agent"), el("span", { class: "muted small" }, formatTime(note.at)));
  append(item, head, linkified("div", { class: "note__text" }, note.text));
  list.appendChild(item);
}
