/* Insight's figures as people read them: null is "–"; every share comes with the count behind it; intents,
 * handoff reasons and days in words. */

import { REASON_LABELS } from "../handoff-labels.js";
import { intentTitle } from "../intent-titles.js";
import { formatDay, formatUtcTime } from "./days.js";

export var NONE = "–";
export var QUESTION_LABELS = { csat: "CSAT", nps: "NPS" };
var FRACTION_KEYS = { csat: true, containment: true, handoff_rate: true, rate: true }; // 0-1 → "55.6%"

export function isNone(value) {
  return value === null || value === undefined || value === "" || (typeof value === "number" && isNaN(value));
}

function trimNumber(value, digits) {
  return String(Number(Number(value).toFixed(digits)));
}

export function formatShare(fraction) {
  return isNone(fraction) ? NONE : trimNumber(Number(fraction) * 100, 1) + "%";
}

export function formatCount(value) {
  return isNone(value) ? NONE : Number(value).toLocaleString();
}

export function formatAverage(value) {
  return isNone(value) ? NONE : trimNumber(value, 2);
}

export function formatNps(value) {
  if (isNone(value)) {
    return NONE;
  }
  var number = Number(trimNumber(value, 1));
  return (number > 0 ? "+" : "") + String(number);
}

/** Seconds as people say them: "45 s", "2 min 5 s", "3 h 10 min", "2 d 4 h". */
export function formatSeconds(value) {
  if (isNone(value)) {
    return NONE;
  }
  var seconds = Number(value);
  if (seconds < 10) {
    return trimNumber(seconds, 1) + " s";
  }
  var total = Math.round(seconds);
  if (total < 60) {
    return total + " s";
  }
  var minutes = Math.floor(total / 60);
  if (minutes < 60) {
    return minutes + " min" + (total % 60 ? " " + (total % 60) + " s" : "");
  }
  var hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return hours + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
  }
  return Math.floor(hours / 24) + " d" + (hours % 24 ? " " + (hours % 24) + " h" : "");
}

export function plural(count, one, many) {
  return formatCount(count) + " " + (Number(count) === 1 ? one : many);
}

export function isSecondsKey(key) {
  return /_seconds$/.test(key);
}

/** A table cell's value, by its column's key. */
export function formatCell(key, value) {
  if (isNone(value)) {
    return NONE;
  }
  if (FRACTION_KEYS[key]) {
    return formatShare(value);
  }
  if (isSecondsKey(key)) {
    return formatSeconds(value);
  }
  if (key === "nps") {
    return formatNps(value);
  }
  if (key === "average") {
    return formatAverage(value);
  }
  if (key === "at") {
    return formatUtcTime(value);
  }
  if (key === "question") {
    return QUESTION_LABELS[value] || String(value);
  }
  if (key === "intent") {
    return intentTitle(value);
  }
  if (key === "reason") {
    return REASON_LABELS[value] || String(value);
  }
  if (key === "day") {
    return formatDay(value);
  }
  return typeof value === "number" ? formatCount(value) : String(value);
}
