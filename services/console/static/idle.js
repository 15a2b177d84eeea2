// A sign-in ends CASEBOOK_CONSOLE_IDLE_MINUTES after its last request (services/console/
// session.py): school computers are shared. This page warns a while before, keeps the sign-in
// while the person types (typing sends nothing until the form is sent), and when the sign-in
// ends takes itself off the screen: the console's sign-in page replaces it.
(function () {
  "use strict";
  const idle = Number(document.body.dataset.idleSeconds) * 1000;
  const warning = document.getElementById("idle-warning");
  if (!idle || !warning) {
    return;
  }
  const lead = Math.min(120000, idle / 2);
  let lastRequest = Date.now();
  let warned = 0;
  let ended = 0;

  function arm() {
    clearTimeout(warned);
    clearTimeout(ended);
    warned = setTimeout(function () { warning.showModal(); }, idle - lead);
    // A second after the server ends it, so that the sign-in page is what comes.
    ended = setTimeout(function () { window.location.replace("/sign-in"); }, idle + 1000);
  }

  function stillHere() {
    lastRequest = Date.now();
    return fetch("/still-here", { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status !== 204) {
          window.location.replace("/sign-in");  // ended already (another tab signed out)
          return;
        }
        arm();
      });
  }

  // A tab in the background has its timers held back (Chromium runs them once a minute after
  // five hidden minutes): back on the screen, the page judges the time unused itself at once,
  // so that a page whose sign-in ended is not shown to the next person until a timer comes.
  function judge() {
    const unused = Date.now() - lastRequest;
    if (unused >= idle + 1000) {
      window.location.replace("/sign-in");
    } else if (unused >= idle - lead && !warning.open) {
      warning.showModal();
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      judge();
    }
  });
  document.getElementById("idle-stay").addEventListener("click", function () {
    warning.close();
    stillHere();
  });
  // Typing a long record is use too: at most one request a third of the way through.
  document.addEventListener("input", function () {
    if (Date.now() - lastRequest > idle / 3) {
      stillHere();
    }
  });
  arm();
}());
