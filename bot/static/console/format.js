/* Times, dates, waiting times, money and shares as people read them (in the browser's language). */

export function parseTime(iso) {
  var time = iso ? Date.parse(iso) : NaN;
  return isNaN(time) ? null : time;
}

export function formatTime(iso) {
  var time = parseTime(iso);
  if (time === null) {
    return "";
  }
  var date = new Date(time);
  var sameDay = new Date().toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

export function formatDate(iso) {
  // Order dates come without a zone (shop-local): show them as written, just nicer.
  if (!iso) {
    return "";
  }
  var date = new Date(String(iso).length === 10 ? iso + "T12:00:00" : iso);
  if (isNaN(date.getTime())) {
    return String(iso);
  }
  return String(iso).length === 10
    ? date.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", year: "numeric" })
    : date.toLocaleString([], { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function waitedFor(iso) {
  var since = parseTime(iso);
  if (since === null) {
    return "";
  }
  var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
  if (minutes < 1) {
    return "just now";
  }
  if (minutes < 60) {
    return minutes + " min";
  }
  var hours = Math.floor(minutes / 60);
  if (hours < 48) {
    return hours + " h " + (minutes % 60) + " min";
  }
  return Math.floor(hours / 24) + " days";
}

export function money(amount, currency) {
  var value = Number(amount);
  if (amount === null || amount === undefined || isNaN(value)) {
    return "";
  }
  try {
    return new Intl.NumberFormat([], { style: "currency", currency: currency || "GBP" }).format(value);
  } catch (e) {
    return value.toFixed(2) + " " + (currency || "");
  }
}

/** A confidence or probability (0-1) as a whole percentage; nothing when there is none. */
export function percent(confidence) {
  var value = Number(confidence);
  return confidence === null || confidence === undefined || isNaN(value) ? "" : Math.round(value * 100) + "%";
}
