/*
 * The words people read for an intent ("Where is my refund", never `track_refund`): intent_titles.yml beside
 * domain.yml, sent by GET /api/me. An intent without a title is still shown in words.
 */

var titles = {};

export function setIntentTitles(given) {
  titles = given && typeof given === "object" ? given : {};
}

/** "track_refund" -> its title, or "Track refund" when intent_titles.yml has none; "" for no intent. */
export function intentTitle(name) {
  if (!name) {
    return "";
  }
  if (Object.prototype.hasOwnProperty.call(titles, name) && titles[name]) {
    return String(titles[name]);
  }
  var words = String(name).replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
