// The policy editor without a "Preview" click: as the admin changes a threshold, the replay
// panel is fetched again for the form's values. Without JavaScript the Preview button does
// the same through a GET of the whole page.
(function () {
  "use strict";
  var form = document.getElementById("policy-form");
  var panel = document.getElementById("replay");
  if (!form || !panel || !window.fetch || !window.URLSearchParams) return;
  var url = form.getAttribute("data-replay-url");
  var timer = null;
  var latest = 0;

  function query() {
    var params = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.name === "note") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      params.append(el.name, el.value);
    });
    return params.toString();
  }

  function refresh() {
    var ticket = ++latest;
    panel.classList.add("stale");
    fetch(url + "?" + query(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (ticket !== latest) return; // an older answer arriving late
        panel.innerHTML = html;
        panel.classList.remove("stale");
      })
      .catch(function () { panel.classList.remove("stale"); });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("input", function (event) {
    if (event.target.name !== "note") schedule();
  });
  form.addEventListener("change", function (event) {
    if (event.target.name !== "note") schedule();
  });
  form.setAttribute("data-live", "on"); // listening: changes from now on refresh the panel
})();
