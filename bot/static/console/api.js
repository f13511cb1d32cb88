/*
 * The hub's console API (bot/console_api.py, bot/review_api.py, bot/insight_api.py): JSON over fetch with the
 * session cookie. A 401 on anything but the login itself means the session has ended: the shell is told.
 */

export class ApiError {
  constructor(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }
}

var sessionEnded = function () {};

/** What to do when the hub says the session has ended (the shell shows the login form). */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/** fetch + JSON. Changing requests are always JSON (the hub refuses anything else). */
export function api(method, path, body) {
  var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  return fetch(path, options)
    .catch(function () {
      throw new ApiError(0, "network", "The hub cannot be reached. Check the connection and try again.");
    })
    .then(function (response) {
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (data) {
          if (response.ok) {
            return data;
          }
          var error = (data && data.error) || {};
          var failure = new ApiError(
            response.status,
            error.code || "http_" + response.status,
            error.message || "The hub answered " + response.status + "."
          );
          if (response.status === 401 && path !== "/api/login") {
            sessionEnded("Your session has ended. Please sign in again.");
          }
          throw failure;
        });
    });
}

export function conversationPath(id, rest) {
  return "/api/conversations/" + encodeURIComponent(id) + (rest || "");
}
