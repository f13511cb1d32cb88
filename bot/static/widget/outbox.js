/*
 * The customer's messages the hub has not acknowledged yet: kept in the browser, shown as "sending" and sent
 * again (with the same client_id, which the hub stores once) after a reconnect or a reload.
 */

import { KEYS, readJson, storageSet } from "./storage.js";

var OUTBOX_LIMIT = 50;

var items = load();

function load() {
  var stored = readJson(KEYS.outbox, []);
  if (!Array.isArray(stored)) {
    return [];
  }
  return stored.filter(function (item) {
    return item && typeof item.client_id === "string" && typeof item.text === "string";
  });
}

function save() {
  items = items.slice(-OUTBOX_LIMIT);
  storageSet(KEYS.outbox, items.length ? JSON.stringify(items) : null);
}

/** The unacknowledged messages, oldest first (a copy). */
export function unsent() {
  return items.slice();
}

/** A new message from the composer, stored before it is sent. */
export function addToOutbox(text) {
  var item = { client_id: newClientId(), text: text, at: new Date().toISOString() };
  items.push(item);
  save();
  return item;
}

export function dropFromOutbox(clientId) {
  var before = items.length;
  items = items.filter(function (item) {
    return item.client_id !== clientId;
  });
  if (items.length !== before) {
    save();
  }
}

/** A random id for a frame, so the hub can tell a resend from a new message. */
export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // randomUUID needs a secure context; getRandomValues does not.
  var bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  var hex = Array.prototype.map.call(bytes, function (b) {
    return (b + 0x100).toString(16).slice(1);
  });
  return [
    hex.slice(0, 4).join(""),
    hex.slice(4, 6).join(""),
    hex.slice(6, 8).join(""),
    hex.slice(8, 10).join(""),
    hex.slice(10, 16).join(""),
  ].join("-");
}
