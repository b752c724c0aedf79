// The mailbox pages (sandbox/mail.py): the list reloads when the stand-in says a mail came in;
// a mail's HTML part (a frame where no script runs) is as tall as what it shows.
"use strict";
(() => {
  const data = document.currentScript?.dataset ?? {};
  if (data.last !== undefined) {
    const last = Number(data.last);
    const events = new EventSource("/_sandbox/events?user_id=0");
    events.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "mail" && (event.id === null || event.id > last)) location.reload();
      if (event.type === "reset") location.reload();
    };
  }
  const frame = document.getElementById("html-part");
  if (frame) {
    const fit = () => {
      const page = frame.contentDocument?.documentElement;
      if (!page) return;
      frame.style.height = "0px";
      frame.style.height = `${page.scrollHeight + 2}px`;
    };
    frame.addEventListener("load", fit);
    window.addEventListener("resize", fit);
    if (frame.contentDocument?.readyState === "complete") fit();
  }
})();
