/*
 * New waiting conversations: the count in the page title and the top bar, and two short tones for the agents
 * who take conversations.
 */

import { $ } from "../dom.js";
import { canHandle } from "../session.js";
import { currentId } from "./selection.js";

var TITLE = "Frontline console";

var alerted = new Set(); // waiting conversations already announced with a beep
var unseen = new Set(); // new waiting conversations the agent has not looked at: the title count
var audio = null;

export function alertNew(id) {
  if (alerted.has(id)) {
    return;
  }
  alerted.add(id);
  if (id !== currentId()) {
    unseen.add(id);
  }
  updateAlert();
  beep();
}

/** Waiting before we looked: not news. */
export function markKnown(id) {
  alerted.add(id);
}

/** Conversations no longer waiting stop counting. */
export function keepOnly(waitingIds) {
  [alerted, unseen].forEach(function (set) {
    Array.from(set).forEach(function (id) {
      if (!waitingIds.has(id)) {
        set.delete(id);
      }
    });
  });
}

export function isUnseen(id) {
  return unseen.has(id);
}

export function markSeen(id) {
  unseen.delete(id);
}

export function markAllSeen() {
  unseen.clear();
}

export function resetAlerts() {
  alerted.clear();
  unseen.clear();
}

export function updateAlert() {
  var count = unseen.size;
  document.title = count ? "(" + count + ") " + TITLE : TITLE;
  var node = $("alert-count");
  node.textContent = count + " new";
  node.hidden = count === 0;
  var words =
    (count === 1 ? "1 new conversation" : count + " new conversations") +
    " waiting for a person that you have not opened yet. Click to mark them as seen.";
  node.setAttribute("aria-label", words);
  node.title = words;
}

function audioContext() {
  if (!audio) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      return null;
    }
    audio = new Context();
  }
  return audio;
}

// Browsers only let a page make sound after the user has interacted with it.
export function unlockAudio() {
  var context = audioContext();
  if (context && context.state === "suspended") {
    context.resume().catch(function () {});
  }
}

/** Two short tones made with the Web Audio API (no audio files). Not for trainers: they take no conversations. */
export function beep() {
  if (!canHandle()) {
    return;
  }
  var context = audioContext();
  if (!context) {
    return;
  }
  if (context.state === "suspended") {
    context.resume().catch(function () {});
  }
  [880, 1175].forEach(function (frequency, index) {
    var start = context.currentTime + index * 0.16;
    var oscillator = context.createOscillator();
    var gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.18, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.14);
    oscillator.connect(gain);
    gain.connect(context.destination);
    oscillator.start(start);
    oscillator.stop(start + 0.15);
  });
}
