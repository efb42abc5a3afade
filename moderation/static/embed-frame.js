/* Inside the comments iframe: tell the news page how tall we are (only that page's origin,
 * which the server checked against the site's allowed origins), keep the reader's own
 * comment's token, follow it until it is decided, and load more comments in place. */
(function () {
  "use strict";
  var body = document.body;
  var parentOrigin = body.dataset.parentOrigin;
  var storageKey = "moderation:mine:" + (body.dataset.articleKey || "");

  function tellHeight() {
    if (!parentOrigin || window.parent === window) return;
    window.parent.postMessage(
      { type: "moderation:height", height: document.documentElement.scrollHeight },
      parentOrigin);
  }
  tellHeight();
  if (window.ResizeObserver) new ResizeObserver(tellHeight).observe(document.documentElement);
  window.addEventListener("load", tellHeight);

  // Third-party storage may be blocked with third-party cookies: the URL keeps the token too.
  function remember(token) {
    try {
      if (token) localStorage.setItem(storageKey, token);
      else localStorage.removeItem(storageKey);
    } catch (blocked) { /* the URL carries it */ }
  }
  function remembered() {
    try { return localStorage.getItem(storageKey); } catch (blocked) { return null; }
  }

  function withMine(token) {
    var url = new URL(location.href);
    url.searchParams.set("mine", token);
    url.hash = "your-comment";
    return url.toString();
  }

  function follow(stateUrl) {
    fetch(stateUrl, { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && answer.state !== "pending") location.reload();
        else setTimeout(function () { follow(stateUrl); }, 1500);
      })
      .catch(function () { setTimeout(function () { follow(stateUrl); }, 3000); });
  }

  var mine = body.dataset.mine;
  if (mine) {
    if (body.dataset.mineState === "pending") {
      remember(mine);
      follow(body.dataset.stateUrl);
    } else {
      remember(null);  // decided: shown once here, not again on the next visit
    }
  } else if (remembered()) {
    location.replace(withMine(remembered()));
  }

  document.addEventListener("click", function (event) {
    var more = event.target.closest(".more-comments a");
    if (!more) return;
    event.preventDefault();
    fetch(more.href, { credentials: "omit" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        var list = document.querySelector(".comment-list");
        next.querySelectorAll(".comment-list > li").forEach(function (item) {
          list.appendChild(document.importNode(item, true));
        });
        var nextMore = next.querySelector(".more-comments");
        var here = document.querySelector(".more-comments");
        if (nextMore) here.replaceWith(document.importNode(nextMore, true));
        else here.remove();
        tellHeight();
      })
      .catch(function () { location.href = more.href; });
  });
})();
