// papersift: small enhancements only; every action also works as a plain form without this file.
(function () {
  "use strict";

  // Vote without a reload: POST the same form with fetch, ask for JSON, update the button.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("vote-form") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button");
    var action = form.querySelector("input[name=action]");
    var token = form.querySelector("input[name=csrf_token]");
    if (button.getAttribute("aria-busy") === "true") return;  // one click at a time
    button.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("action"), {  // not form.action: the form has an input named "action"
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "Accept": "application/json", "X-CSRF-Token": token ? token.value : "" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) {
      button.querySelector(".vote-count").textContent = data.upvotes;
      button.classList.toggle("voted", data.voted);
      button.setAttribute("aria-pressed", data.voted ? "true" : "false");
      var label = button.querySelector(".vote-label");
      if (label) label.textContent = data.voted ? "Remove upvote" : "Upvote";
      action.value = data.voted ? "unvote" : "vote";
    }).catch(function () {
      form.submit();  // fall back to the plain form post (shows the error page if any)
    }).finally(function () {
      button.removeAttribute("aria-busy");
    });
  });

  // The header's menus are <details>: they open and close without this; it only closes them the way
  // a menu is expected to close, on Escape (focus back on its button) and on a click elsewhere.
  var menus = document.querySelectorAll(".site-header details");
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    menus.forEach(function (menu) {
      if (!menu.open) return;
      menu.open = false;
      if (menu.contains(document.activeElement)) menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) { if (menu.open && !menu.contains(event.target)) menu.open = false; });
  });

  // "Copy BibTeX": the textarea stays selectable for anyone without this.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copy-status");
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      source.select();
      var done = function () { if (status) status.textContent = "Copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
