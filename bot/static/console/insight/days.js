/* Whole UTC days, as the hub counts Insight's periods, and how people read them. */

import { parseTime } from "../format.js";

export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

export function daysBefore(day, days) {
  var date = new Date(day + "T00:00:00Z");
  date.setUTCDate(date.getUTCDate() - days);
  return date.toISOString().slice(0, 10);
}

function dayCount(since, until) {
  return Math.round((Date.parse(until + "T00:00:00Z") - Date.parse(since + "T00:00:00Z")) / 86400000) + 1;
}

/** A UTC day as people read it, e.g. "Mon, 3 Mar 2025" (in the browser's language). */
export function formatDay(day, short) {
  var date = new Date(day + "T00:00:00Z");
  if (isNaN(date.getTime())) {
    return String(day);
  }
  var options = short
    ? { timeZone: "UTC", day: "numeric", month: "short" }
    : { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" };
  return date.toLocaleDateString([], options);
}

export function formatUtcTime(iso) {
  var time = parseTime(iso);
  if (time === null) {
    return "";
  }
  return (
    new Date(time).toLocaleString([], {
      timeZone: "UTC",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    }) + " UTC"
  );
}

export function describePeriod(since, until) {
  var days = dayCount(since, until);
  return formatDay(since) + " – " + formatDay(until) + " · " + days + (days === 1 ? " day" : " days") + " · UTC";
}
