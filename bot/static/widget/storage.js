/*
 * What the widget keeps in the browser between page views: the customer's token, unsent messages and the
 * rating requests already answered. localStorage can throw (private mode, storage switched off): the widget
 * then works for this page view without it.
 */

export var KEYS = {
  token: "frontline.token",
  outbox: "frontline.outbox",
  rated: "frontline.rated",
};

export function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch (e) {
    return null;
  }
}

/** Store `value`; null or undefined removes the key. */
export function storageSet(key, value) {
  try {
    if (value === null || value === undefined) {
      window.localStorage.removeItem(key);
    } else {
      window.localStorage.setItem(key, value);
    }
  } catch (e) {
    /* not persisted; fine for this page view */
  }
}

export function readJson(key, fallback) {
  try {
    var value = JSON.parse(storageGet(key));
    return value === null ? fallback : value;
  } catch (e) {
    return fallback;
  }
}
