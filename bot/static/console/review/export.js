/* "Export to training data": the labelled items written to data/, and what was written where. */

import { runAction } from "../action-feedback.js";
import { api } from "../api.js";
import { $, append, el, facts } from "../dom.js";
import { intentTitle } from "../intent-titles.js";
import { announce } from "./announce.js";
import { replaceResult } from "./results.js";

export function exportReviewed() {
  var button = $("review-export");
  runAction(button, $("review-tools"), function () {
    return api("POST", "/api/review/export", {});
  }).then(function (result) {
    if (result && result.export) {
      renderExport(result.export);
    }
  });
}

function renderExport(result) {
  var perIntent = result.per_intent && typeof result.per_intent === "object" ? result.per_intent : {};
  var newIntents = result.new_intents && typeof result.new_intents === "object" ? result.new_intents : {};
  var card = el("section", { class: "card review-result", "data-testid": "export-result", "aria-labelledby": "export-title" });
  append(
    card,
    el("h2", { class: "card__title", id: "export-title" }, "Exported to training data"),
    facts([
      ["File", el("code", { class: "mono", "data-testid": "export-path" }, result.path)],
      ["Examples", el("span", { "data-testid": "export-examples" }, String(Number(result.examples) || 0))],
      [
        "Duplicates left out",
        el("span", { "data-testid": "export-duplicates" },
          String(Number(result.duplicates_left_out) || 0) + " (already in the training data)"),
      ],
    ])
  );
  var names = Object.keys(perIntent);
  card.appendChild(el("h3", { class: "card__subtitle" }, "Examples per intent"));
  if (names.length) {
    card.appendChild(countsTable(perIntent, "export-per-intent"));
  } else {
    card.appendChild(el("p", { class: "muted small" }, "None for intents in domain.yml."));
  }
  var verdicts = result.per_escalation_label && typeof result.per_escalation_label === "object" ? result.per_escalation_label : {};
  if (result.escalation_path) {
    card.appendChild(el("h3", { class: "card__subtitle" }, "Escalation verdicts"));
    var escalationFile = el("p", { class: "small" });
    append(
      escalationFile,
      "Written to ",
      el("code", { class: "mono", "data-testid": "export-escalation-path" }, result.escalation_path),
      ": " + (Number(verdicts.needs_person) || 0) + " needed a person, " + (Number(verdicts.fine) || 0) + " fine."
    );
    card.appendChild(escalationFile);
  }
  var fresh = Object.keys(newIntents);
  if (fresh.length) {
    card.appendChild(el("h3", { class: "card__subtitle" }, "Not in domain.yml yet"));
    var where = el("p", { class: "small" });
    append(
      where,
      "Written to ",
      el("code", { class: "mono", "data-testid": "export-new-intents-path" }, result.new_intents_path || "review/new_intents.yml"),
      ", outside data/, so training still works. Add each intent to domain.yml with a response, then move its " +
        "examples into data/nlu/ (README: “Teach the bot something new”)."
    );
    card.appendChild(where);
    card.appendChild(countsTable(newIntents, "export-new-intents"));
  }
  card.appendChild(el("p", { class: "muted small" }, "Next: make validate train, then Reload model."));
  replaceResult("export-result", card);
  announce(
    "Exported " + (Number(result.examples) || 0) + " examples to " + result.path +
      (fresh.length ? "; " + fresh.length + " new intent" + (fresh.length === 1 ? "" : "s") + " written apart." : ".")
  );
}

function countsTable(counts, testid) {
  var table = el("table", { class: "table", "data-testid": testid });
  var head = el("tr");
  append(head, el("th", null, "Intent"), el("th", { class: "num" }, "Examples"));
  append(table, append(el("thead"), head));
  var body = el("tbody");
  Object.keys(counts)
    .sort()
    .forEach(function (name) {
      var row = el("tr", { "data-intent": name });
      var intent = el("td", { title: name });
      append(intent, intentTitle(name), " ", el("code", { class: "mono muted small" }, name));
      append(row, intent, el("td", { class: "num" }, String(counts[name])));
      body.appendChild(row);
    });
  table.appendChild(body);
  return table;
}
