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
