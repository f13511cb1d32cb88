/*
 * What every part of the console shares: who is signed in (GET /api/me or POST /api/login) and the limits the
 * hub gave. Nothing else lives here; each area (workspace/, review/, insight/) keeps its own state.
 */

var HANDLERS = { agent: true, supervisor: true }; // roles that take conversations and act on orders
var REVIEWERS = { trainer: true, supervisor: true }; // roles that see the review inbox
var SUPERVISORS = { supervisor: true }; // roles that see the Insight page (the hub answers 403 to the others)

// Until the hub says otherwise. Replies: GET /api/me's limits.max_message_chars (the hub's MAX_MESSAGE_CHARS,
// 4000 by default). Notes: bot/console_api.py's MAX_NOTE_CHARS, which /api/me does not send (it would be
// limits.max_note_chars; read here if it ever comes).
var DEFAULT_MAX_REPLY_CHARS = 4000;
var DEFAULT_MAX_NOTE_CHARS = 4000;

var agent = null;
var limits = {};

export function signIn(who, hubLimits) {
  agent = who;
  limits = hubLimits && typeof hubLimits === "object" ? hubLimits : {};
}

export function signOut() {
  agent = null;
  limits = {};
}

/** The signed-in agent ({id, display_name, role...}), or null. */
export function currentAgent() {
  return agent;
}

export function isHandler(role) {
  return !!HANDLERS[role];
}

export function canHandle() {
  return !!(agent && HANDLERS[agent.role]);
}

export function canReview() {
  return !!(agent && REVIEWERS[agent.role]);
}

export function canSeeInsight() {
  return !!(agent && SUPERVISORS[agent.role]);
}

function positive(value, fallback) {
  return typeof value === "number" && value > 0 ? Math.floor(value) : fallback;
}

export function maxReplyChars() {
  return positive(limits.max_message_chars, DEFAULT_MAX_REPLY_CHARS);
}

export function maxNoteChars() {
  return positive(limits.max_note_chars, DEFAULT_MAX_NOTE_CHARS);
}
