/* The article's comment form, posted without leaving the article: the same fields and CSRF
 * token as the plain form, answered in JSON. The reader is told their comment is being
 * checked, then what became of it (by polling its state), and can post again. Without
 * JavaScript the form posts as before and the reader lands on the comment's status page. */
(function () {
  "use strict";
  var form = document.getElementById("post-comment");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var status = form.querySelector(".posted-status");
  var refusal = form.querySelector(".form-refusal");
  var button = form.querySelector("button[type=submit]");
  var following = 0;  // a newer post stops the polling of an older one

  function paragraph(text, className) {
    var p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  }

  function link(text, href) {
    var p = document.createElement("p");
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    p.appendChild(a);
    return p;
  }

  function refuse(message) {
    refusal.textContent = message;
    refusal.hidden = false;
  }

  function clearErrors() {
    refusal.hidden = true;
    refusal.textContent = "";
    form.querySelectorAll(".field.has-error").forEach(function (field) {
      field.classList.remove("has-error");
      field.querySelectorAll(".error").forEach(function (error) { error.remove(); });
      field.querySelectorAll("[aria-invalid]").forEach(function (input) {
        input.removeAttribute("aria-invalid");
      });
    });
  }

  function showFieldErrors(fields) {
    var shown = false;
    Object.keys(fields || {}).forEach(function (name) {
      var input = form.elements[name];
      var field = input && input.closest && input.closest(".field");
      if (!field) return;
      field.classList.add("has-error");
      input.setAttribute("aria-invalid", "true");
      fields[name].forEach(function (message) {
        field.appendChild(paragraph(message, "error"));
      });
      if (!shown) input.focus();
      shown = true;
    });
    return shown;
  }

  function show(state, message, answer) {
    status.className = "posted-status state-" + state.replace(" ", "-");
    status.replaceChildren(paragraph(message, "posted-message"));
    if (state === "published" && answer.comment_url) {
      status.appendChild(link("See it under the article", answer.comment_url));
    } else if (answer.status_url) {
      status.appendChild(link("Your comment's own page", answer.status_url));
    }
    status.hidden = false;
  }

  // A published comment joins the list in place (the newest page), so its link has a target.
  function refreshComments() {
    return fetch(location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        [".comment-count", ".comment-list"].forEach(function (selector) {
          var here = document.querySelector(selector);
          var there = fresh.querySelector(selector);
          if (here && there) here.replaceWith(document.importNode(there, true));
        });
      })
      .catch(function () { /* the link still leads to it */ });
  }

  function follow(stateUrl, which) {
    if (which !== following) return;
    fetch(stateUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (which !== following) return;
        if (answer && answer.state === "published") {
          refreshComments().then(function () { show(answer.state, answer.message, answer); });
        } else if (answer && answer.state !== "pending") {
          show(answer.state, answer.message, answer);  // final, or waiting for a moderator
        } else {
          setTimeout(function () { follow(stateUrl, which); }, 1500);
        }
      })
      .catch(function () { setTimeout(function () { follow(stateUrl, which); }, 3000); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          return { ok: response.ok, status: response.status, answer: answer };
        });
      })
      .then(function (reply) {
        var answer = reply.answer;
        if (!reply.ok) {
          // What was typed stays in the form; only the reasons are added.
          if (!(reply.status === 400 && showFieldErrors(answer.fields))) {
            refuse(answer.message || "Your comment could not be posted. Please try again.");
          }
          return;
        }
        form.elements.body.value = "";  // name and email stay for the next comment
        following += 1;
        show("pending", "Thanks — your comment is being checked. One held for a moderator " +
             "is read " + form.dataset.reviewWait + ".", answer);
        follow(answer.state_url, following);
      })
      .catch(function () {
        refuse("We could not reach the site, so your comment was not posted. " +
               "Check your connection and try again.");
      })
      .then(function () { button.disabled = false; });
  });
})();
