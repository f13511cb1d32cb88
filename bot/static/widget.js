/*
 * Frontline chat widget: the one tag a shop embeds, <script src="https://<hub>/static/widget.js" defer></script>.
 *
 * It only loads the widget itself, native ES modules in widget/ next to this file (main.js first), so the
 * embed stays one classic script while the widget is split into files that each hold one thing.
 */
(function () {
  "use strict";

  if (window.FrontlineWidget || document.querySelector("script[data-frontline-widget]")) {
    return; // included twice: one widget is enough
  }
  var here = document.currentScript && document.currentScript.src ? document.currentScript.src : "/static/widget.js";
  var entry = document.createElement("script");
  entry.type = "module";
  entry.src = new URL("widget/main.js", new URL(here, window.location.href)).href;
  entry.setAttribute("data-frontline-widget", "");
  document.head.appendChild(entry);
})();
