/* "Exit this page", as GOV.UK does it: the link works without JavaScript; with it,
   Shift pressed 3 times also exits, and the page is blanked before leaving so the
   complaint is not on screen while the next site loads. */
(function () {
  "use strict";
  var link = document.getElementById("exit-this-page");
  if (!link) { return; }
  var hint = document.getElementById("exit-hint");
  if (hint) { hint.hidden = false; }

  function exitPage() {
    document.title = "";
    document.documentElement.classList.add("exiting");
    var body = document.body;
    while (body.firstChild) { body.removeChild(body.firstChild); }
    // replace(): the back button does not come back to this page. The link is our
    // /exit/, which ends any follow-up visit and then sends on to the neutral site.
    window.location.replace(link.href);
  }

  link.addEventListener("click", function (event) {
    event.preventDefault();
    exitPage();
  });

  var presses = 0;
  var timer = null;
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") { presses = 0; return; }
    presses += 1;
    clearTimeout(timer);
    timer = setTimeout(function () { presses = 0; }, 5000);
    if (presses >= 3) { exitPage(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift") { presses = 0; }
  });
})();
