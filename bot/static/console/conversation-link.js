/* "Open the conversation" from the review inbox or an Insight comment. */

import { el } from "./dom.js";

/** In this console (through `open`), or from the address in a new tab or window. */
export function conversationLink(conversationId, textId, className, testId, open) {
  var link = el(
    "a",
    {
      class: className,
      href: "#conversation/" + encodeURIComponent(conversationId),
      "data-testid": testId,
      "aria-describedby": textId,
    },
    "Open the conversation"
  );
  link.addEventListener("click", function (event) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window: the console there opens it from the address
    }
    event.preventDefault();
    open(conversationId);
  });
  return link;
}
