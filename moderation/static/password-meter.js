// Strength meter under a new-password field: asks the server's estimator (zxcvbn) as the
// person types, POSTing the text (never in a URL). Without JavaScript the form still says
// why a password is refused when it is submitted.
(function () {
  "use strict";
  function attach(input) {
    var form = input.form;
    var url = input.getAttribute("data-strength-url");
    var out = document.createElement("p");
    out.className = "strength";
    out.id = input.id + "-strength";
    out.setAttribute("aria-live", "polite");
    input.setAttribute("aria-describedby", out.id);
    input.insertAdjacentElement("afterend", out);
    var timer = null;
    var sent = 0;
    function show(result, number) {
      if (number !== sent) return; // an older answer arriving late
      out.dataset.score = result.score;
      out.dataset.acceptable = result.acceptable ? "yes" : "no";
      var text = "Strength: " + result.label + (result.acceptable ? "" : " (not accepted)");
      var hint = result.warning || (result.suggestions || [])[0] || "";
      out.textContent = hint ? text + ". " + hint : text + ".";
    }
    function check() {
      var value = input.value;
      if (!value) { out.textContent = ""; delete out.dataset.score; return; }
      ask(value, ++sent, 0);
    }
    // A busy server or a dropped connection gets a few more tries (the latest text only);
    // a 4xx is an answer, not a hiccup.
    function ask(value, number, tries) {
      var body = new URLSearchParams();
      body.set("password", value);
      var token = form.querySelector("input[name=csrf_token]");
      if (token) body.set("csrf_token", token.value);
      function again() {
        if (number === sent && tries < 4) {
          setTimeout(function () { ask(value, number, tries + 1); }, 500 * (tries + 1));
        }
      }
      fetch(url, {method: "POST", body: body, credentials: "same-origin",
                  headers: {"Accept": "application/json"}})
        .then(function (r) {
          if (r.ok) return r.json();
          if (r.status === 429 || r.status >= 500) again();
          return null;
        })
        .then(function (result) { if (result) show(result, number); })
        .catch(again);
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 150);
    });
    // Typed (or filled in by the browser) before this script ran: judge it now.
    if (input.value) check();
  }
  document.querySelectorAll("input[data-strength-url]").forEach(attach);
})();
