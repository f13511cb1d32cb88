/* The hub's words for a handoff's priority and reason, explained (badges' tooltips, Insight's table hints). */

export var PRIORITY_LABELS = { urgent: "Urgent priority", high: "High priority", normal: "Normal priority" };

export var REASON_LABELS = {
  requested: "The customer asked for a person",
  emotional: "The customer seems upset",
  complex: "A case the bot should not handle alone",
  not_understood: "The bot did not understand the customer",
  bot_error: "The bot failed (system error)",
};
