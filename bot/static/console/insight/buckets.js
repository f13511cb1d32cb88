/*
 * The By day rows grouped for a chart that reads at a glance: days for two months or less, weeks (from Monday)
 * up to a year, months beyond. Each group adds up its days: conversations, handoffs, ratings; CSAT and the
 * average rating come from the counts, never from averaging the days' shares.
 */

import { formatDay } from "./days.js";
import { isNone } from "./figures.js";

var DAYS_AS_DAYS = 62;
var DAYS_AS_WEEKS = 366;

/** {unit: "day" | "week" | "month", groups: [{label, title, days, conversations, handed_off, ratings, csat, average}]} */
export function chartBuckets(daily) {
  var unit = daily.length <= DAYS_AS_DAYS ? "day" : daily.length <= DAYS_AS_WEEKS ? "week" : "month";
  var groups = [];
  var current = null;
  daily.forEach(function (row) {
    var key = groupKey(row.day, unit);
    if (!current || current.key !== key) {
      current = { key: key, first: row.day, last: row.day, days: 0, conversations: 0, handed_off: 0 };
      current.ratings = current.satisfied = current.weighted = 0;
      groups.push(current);
    }
    var ratings = Number(row.ratings) || 0;
    current.last = row.day;
    current.days += 1;
    current.conversations += Number(row.conversations) || 0;
    current.handed_off += Number(row.handed_off) || 0;
    current.ratings += ratings;
    current.satisfied += ratings && !isNone(row.csat) ? Math.round(Number(row.csat) * ratings) : 0;
    current.weighted += ratings && !isNone(row.average) ? Number(row.average) * ratings : 0;
  });
  return {
    unit: unit,
    groups: groups.map(function (group) {
      return {
        label: groupLabel(group, unit),
        title: group.first === group.last ? formatDay(group.first) : formatDay(group.first) + " – " + formatDay(group.last),
        days: group.days,
        conversations: group.conversations,
        handed_off: group.handed_off,
        handoff_rate: group.conversations ? group.handed_off / group.conversations : null,
        ratings: group.ratings,
        csat: group.ratings ? group.satisfied / group.ratings : null,
        average: group.ratings ? group.weighted / group.ratings : null,
      };
    }),
  };
}

/** "day", "week" or "month", as many as there are ("3 days", "1 week"). */
export function unitCount(count, unit) {
  return count + " " + unit + (count === 1 ? "" : "s");
}

function groupKey(day, unit) {
  if (unit === "day") {
    return day;
  }
  if (unit === "month") {
    return day.slice(0, 7);
  }
  var date = new Date(day + "T00:00:00Z");
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7)); // back to Monday
  return date.toISOString().slice(0, 10);
}

/** A day, or a week by its first day ("3 Mar"); a month by its name ("Mar 2025"). */
function groupLabel(group, unit) {
  if (unit !== "month") {
    return formatDay(group.first, true);
  }
  var date = new Date(group.first + "T00:00:00Z");
  return isNaN(date.getTime())
    ? group.key
    : date.toLocaleDateString([], { timeZone: "UTC", month: "short", year: "numeric" });
}
