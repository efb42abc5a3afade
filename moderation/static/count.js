/* Comment counts on a site's index pages: every element with data-comments-for="KEY" (a span,
   a link...) gets "N Comments" for that article, from one request to this server's public
   counts API (more only past 100 keys). Load it from the moderation server:
     <script src="https://comments.example/count.js" async></script>
   When the request fails, each element keeps the text it had; either way each is marked with
   data-comments-state="done" or "failed". No cookies are sent. */
(function () {
  "use strict";

  var MAX_KEYS = 100;
  // Under the request-line limits of common servers and proxies (gunicorn: 4094 bytes).
  var MAX_QUERY = 3000;
  var script = document.currentScript;
  var origin = new URL(script ? script.src : "/", window.location.href).origin;

  function label(count) {
    return count === 1 ? "1 Comment" : count + " Comments";
  }

  function batches(keys) {
    var all = [], current = [], length = 0;
    keys.forEach(function (key) {
      var part = encodeURIComponent(key);
      if (current.length && (current.length >= MAX_KEYS || length + part.length + 1 > MAX_QUERY)) {
        all.push(current);
        current = [];
        length = 0;
      }
      current.push(part);
      length += part.length + 1;
    });
    if (current.length) { all.push(current); }
    return all;
  }

  function mark(elements, state) {
    elements.forEach(function (element) { element.setAttribute("data-comments-state", state); });
  }

  function fill(byKey, keys) {
    var url = origin + "/api/v1/public/counts?keys=" + keys.join(",");
    var elements = [];
    keys.forEach(function (part) { elements = elements.concat(byKey[decodeURIComponent(part)]); });
    return fetch(url, {credentials: "omit", mode: "cors"})
      .then(function (response) {
        if (!response.ok) { throw new Error("counts: HTTP " + response.status); }
        return response.json();
      })
      .then(function (answer) {
        Object.keys(answer.counts || {}).forEach(function (key) {
          (byKey[key] || []).forEach(function (element) {
            element.textContent = label(answer.counts[key]);
          });
        });
        mark(elements, "done");
      })
      .catch(function () { mark(elements, "failed"); });  // the original text stays
  }

  function start() {
    var byKey = {};
    document.querySelectorAll("[data-comments-for]").forEach(function (element) {
      var key = element.getAttribute("data-comments-for").trim();
      if (!key) { return; }
      (byKey[key] = byKey[key] || []).push(element);
    });
    batches(Object.keys(byKey)).forEach(function (keys) { fill(byKey, keys); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
