/* Why a message is in the review inbox, in words (bot/core/review_items.py REASONS), with the longer story. */

export var REVIEW_REASONS = {
  nlu_fallback: "Fell back",
  out_of_scope: "Out of scope",
  low_confidence: "Unsure",
  not_understood: "Handed over: not understood",
  missed_escalation: "Missed handoff?",
  near_threshold: "Nearly handed over",
};

export var REVIEW_REASON_HINTS = {
  nlu_fallback: "No intent was confident enough, so the bot gave its fallback answer",
  out_of_scope: "The bot took it for something the shop does not handle",
  low_confidence: "The bot answered, but with less confidence than the review threshold",
  not_understood: "The customer wrote this shortly before the bot handed them to a person for not understanding",
  missed_escalation: "The customer was upset here, the bot did not hand over, and soon after they asked for a person",
  near_threshold: "The scores came close to a threshold for handing over, and the bot did not hand over",
};

/** The two kinds of item, each with its reasons: what the trainer answers for them differs. */
export var REVIEW_KINDS = [
  {
    kind: "intent",
    title: "Which intent was meant",
    reasons: ["nlu_fallback", "out_of_scope", "low_confidence", "not_understood"],
  },
  { kind: "escalation", title: "Whether a person was needed", reasons: ["missed_escalation", "near_threshold"] },
];
