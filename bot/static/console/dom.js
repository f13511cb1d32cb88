/*
 * Building the page. Every piece of text from customers, the bot or agents goes in with textContent or
 * createTextNode, never as HTML: these helpers are the only way the console makes elements.
 */

export function $(id) {
  return document.getElementById(id);
}

/** Create an element; attributes are set as attributes and `text` as textContent (never HTML). */
export function el(tag, attrs, text) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (name) {
    var value = attrs[name];
    if (value === false || value === null || value === undefined) {
      return;
    }
    node.setAttribute(name, value === true ? "" : String(value));
  });
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  return node;
}

/** Append children; strings go in as text nodes, empty ones (null, undefined, false) are left out. */
export function append(parent, ...children) {
  children.forEach(function (child) {
    if (child === null || child === undefined || child === false) {
      return;
    }
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return parent;
}

export function clear(node) {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
  return node;
}

var URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

/** Text with its http(s) URLs as links; everything, link text included, goes in as text. */
export function linkified(tag, attrs, text) {
  var node = el(tag, attrs);
  var value = typeof text === "string" ? text : "";
  var last = 0;
  value.replace(URL_PATTERN, function (match, offset) {
    var url = match.replace(/[.,;:!?)\]]+$/, "");
    node.appendChild(document.createTextNode(value.slice(last, offset)));
    node.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
    last = offset + url.length;
    return match;
  });
  node.appendChild(document.createTextNode(value.slice(last)));
  return node;
}

/** A link only for http(s) addresses; anything else is shown as its text. */
export function safeLink(url, text) {
  if (typeof url === "string" && /^https?:\/\//i.test(url)) {
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text || url);
  }
  return document.createTextNode(text || "");
}

/** A small coloured label: `label` is what it says (in words, never the stored name), `explanation` its tooltip. */
export function badge(kind, value, label, explanation) {
  return el(
    "span",
    { class: "badge badge--" + kind + " badge--" + kind + "-" + value, "data-value": value, title: explanation || null },
    label || value
  );
}

var LONG_WORD = /\S{24,}/;

/**
 * Text that may wrap inside a long e-mail address, link or id at sensible points (before "@", after ".", "/",
 * "-", "_"), not in the middle of a word; anything else as it is.
 */
export function wrappable(text) {
  var value = String(text);
  if (!LONG_WORD.test(value) && value.indexOf("@") < 0) {
    return document.createTextNode(value);
  }
  var node = el("span");
  value.split(/(?=@)|(?<=[./_-])/).forEach(function (piece, index) {
    if (index) {
      node.appendChild(el("wbr"));
    }
    node.appendChild(document.createTextNode(piece));
  });
  return node;
}

/** A definition list from [label, value] pairs; values that are empty are left out, long words wrap sensibly. */
export function facts(rows) {
  var list = el("dl", { class: "facts" });
  rows.forEach(function (row) {
    var value = row[1];
    if (value === null || value === undefined || value === "") {
      return;
    }
    append(list, el("dt", null, row[0]));
    var dd = el("dd");
    append(dd, typeof value === "string" || typeof value === "number" ? wrappable(value) : value);
    list.appendChild(dd);
  });
  return list;
}
