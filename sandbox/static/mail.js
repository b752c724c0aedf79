// The mailbox page (sandbox/mail.py): reload when the stand-in says a mail came in.
"use strict";
(() => {
  const last = Number(document.currentScript?.dataset.last ?? 0);
  const events = new EventSource("/_sandbox/events?user_id=0");
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "mail" && (event.id === null || event.id > last)) location.reload();
    if (event.type === "reset") location.reload();
  };
})();
