/* The comments embed for a news site's article page:
 *   <div id="comments" data-article-key="2024/05/flood-barrier" data-article-url="…"></div>
 *   <script src="https://comments.example/embed.js" async></script>
 * Builds one iframe per container and sizes it from the iframe's messages, accepted only from
 * this script's own origin and only from the iframe it built. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[src$="/embed.js"]');
  if (!script) return;
  var service = new URL(script.src, location.href).origin;
  var containers = document.querySelectorAll("[data-article-key]");

  function frameFor(container) {
    var params = new URLSearchParams({
      key: container.dataset.articleKey,
      url: container.dataset.articleUrl || location.href.split("#")[0],
      title: container.dataset.articleTitle || document.title,
      origin: location.origin,
    });
    ["theme", "font", "sso"].forEach(function (name) {
      if (container.dataset[name]) params.set(name, container.dataset[name]);
    });
    var frame = document.createElement("iframe");
    frame.src = service + "/embed/comments?" + params.toString();
    frame.title = "Comments";
    frame.loading = "lazy";
    frame.style.cssText = "width:100%;border:0;min-height:120px;display:block";
    frame.addEventListener("load", function () { frame.dataset.loaded = "true"; });
    container.appendChild(frame);
    return frame;
  }

  var frames = [];
  containers.forEach(function (container) {
    if (container.dataset.embed) return;  // the script was included twice
    container.dataset.embed = "loading";
    frames.push({ container: container, frame: frameFor(container) });
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== service || !event.data || event.data.type !== "moderation:height") {
      return;
    }
    frames.forEach(function (item) {
      if (item.frame.contentWindow !== event.source) return;
      var height = Number(event.data.height);
      if (height > 0 && height < 100000) item.frame.style.height = Math.ceil(height) + "px";
      item.container.dataset.embed = "ready";
    });
  });
})();
