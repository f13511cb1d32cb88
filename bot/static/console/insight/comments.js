/*
 * The comments customers left with their ratings, searched by their words and paged. Customers' words,
 * hostile or not, go in as text; each links to its conversation.
 */

import { api } from "../api.js";
import { conversationLink } from "../conversation-link.js";
import { $, append, clear, el } from "../dom.js";
import { canSeeInsight } from "../session.js";
import { formatUtcTime } from "./days.js";
import { QUESTION_LABELS, formatCell, formatCount, plural } from "./figures.js";
import { period, periodQuery, updateCsvLinks } from "./period.js";

var QUESTION_SCALES = { csat: 5, nps: 10 };

var comments = { q: "", offset: 0, total: 0, limit: 50, seq: 0 };
var open = function () {};

/** Once, when the page loads; `openConversation(id)` shows a comment's conversation in the workspace. */
export function setupComments(openConversation) {
  open = openConversation;
  $("insight-comments-form").addEventListener("submit", function (event) {
    event.preventDefault();
    searchComments();
  });
  $("insight-comments-search").addEventListener("search", function () {
    if (!$("insight-comments-search").value && comments.q) {
      searchComments(); // the field's clear button (Enter is the form's submit)
    }
  });
  $("insight-comments-prev").addEventListener("click", function () {
    loadComments(Math.max(0, comments.offset - comments.limit));
  });
  $("insight-comments-next").addEventListener("click", function () {
    loadComments(comments.offset + comments.limit);
  });
}

/** Forget the previous session's search and page; an answer still on its way is not shown. */
export function resetComments() {
  comments = { q: "", offset: 0, total: 0, limit: 50, seq: comments.seq + 1 };
  clear($("insight-comments"));
  $("insight-comments-search").value = "";
  $("insight-comments-status").textContent = "";
  $("insight-comments-pager").hidden = true;
}

/** The words searched for ("" for all). */
export function commentsQuery() {
  return comments.q;
}

/** The first page again (another period). */
export function firstCommentsPage() {
  comments.offset = 0;
}

/** The page shown, again (the figures were loaded). */
export function reloadComments() {
  return loadComments(comments.offset);
}

function searchComments() {
  comments.q = $("insight-comments-search").value.trim();
  updateCsvLinks(comments.q);
  loadComments(0);
}

function loadComments(offset) {
  if (!canSeeInsight() || !period().since) {
    return Promise.resolve();
  }
  comments.seq += 1;
  var seq = comments.seq;
  var list = $("insight-comments");
  list.setAttribute("aria-busy", "true");
  var path = "/api/insight/comments?" + periodQuery({ q: comments.q, offset: offset || 0 });
  return api("GET", path)
    .then(function (data) {
      if (seq !== comments.seq || !canSeeInsight()) {
        return;
      }
      comments.offset = Number(data.offset) || 0;
      comments.total = Number(data.total) || 0;
      comments.limit = Number(data.limit) || 50;
      var rows = data.table && Array.isArray(data.table.rows) ? data.table.rows : [];
      renderComments(rows);
    })
    .catch(function (error) {
      if (seq !== comments.seq || error.status === 401) {
        return;
      }
      clear(list);
      $("insight-comments-pager").hidden = true;
      var status = $("insight-comments-status");
      status.textContent = error.message || "The comments could not be loaded.";
      status.className = "action-error insight-comments__status";
    })
    .then(function () {
      if (seq === comments.seq) {
        list.removeAttribute("aria-busy");
      }
    });
}

function renderComments(rows) {
  var list = clear($("insight-comments"));
  var status = $("insight-comments-status");
  status.className = "muted small insight-comments__status";
  if (!comments.total) {
    status.textContent = comments.q
      ? "No comments with “" + comments.q + "” in this period."
      : "No comments in this period: customers left ratings without words, or no ratings.";
  } else {
    status.textContent =
      plural(comments.total, "comment", "comments") + (comments.q ? " with “" + comments.q + "”" : "") +
      ", newest first.";
  }
  rows.forEach(function (row) {
    list.appendChild(commentItem(row));
  });
  var first = comments.total ? comments.offset + 1 : 0;
  var last = comments.offset + rows.length;
  $("insight-comments-range").textContent = first + "–" + last + " of " + formatCount(comments.total);
  $("insight-comments-prev").disabled = comments.offset <= 0;
  $("insight-comments-next").disabled = last >= comments.total;
  $("insight-comments-pager").hidden = comments.total <= comments.limit && comments.offset === 0;
}

function commentItem(row) {
  var scale = QUESTION_SCALES[row.question] || 5;
  var score = Number(row.score);
  var tone = score >= (scale === 10 ? 9 : 4) ? "good" : score <= (scale === 10 ? 6 : 2) ? "bad" : "middling";
  var textId = "insight-comment-" + String(row.question) + "-" + String(row.conversation_id) + "-" + String(row.at);
  var item = el("li", {
    class: "comment",
    "data-testid": "insight-comment",
    "data-conversation-id": row.conversation_id,
    "data-question": row.question,
    "data-score": row.score,
  });
  var top = el("div", { class: "comment__top" });
  append(
    top,
    el(
      "span",
      {
        class: "score score--" + tone,
        "data-testid": "insight-comment-score",
        title: (QUESTION_LABELS[row.question] || "") + " score",
      },
      String(row.score) + "/" + scale
    ),
    el("span", { class: "badge", "data-testid": "insight-comment-question" }, formatCell("question", row.question)),
    el("span", { class: "comment__who", "data-testid": "insight-comment-credited" }, "Credited to " + (row.credited_to || "Bot")),
    el("span", { class: "muted small" }, "via " + (row.channel || "web")),
    el("time", { class: "comment__when muted small", datetime: row.at, "data-testid": "insight-comment-at" },
      formatUtcTime(row.at))
  );
  var text = el("blockquote", { class: "comment__text", id: textId, "data-testid": "insight-comment-text" }, row.comment);
  var link = conversationLink(row.conversation_id, textId, "comment__link", "insight-comment-open", open);
  append(item, top, text, link);
  return item;
}
