// Keyboard triage for the moderation queue. The page works without this file: every action
// is a plain POST form. With it, decisions go through the JSON API and cards leave at once;
// whenever the API cannot answer, the card's own form is submitted instead.
(function () {
  "use strict";

  const queue = document.querySelector("ol.queue");
  if (!queue) return;

  const csrfToken = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const live = document.getElementById("live");
  const help = document.getElementById("help");
  const undoButton = document.querySelector("[data-undo-button]");
  const bulkForm = document.getElementById("bulk");
  const search = document.getElementById("queue-search");
  const selectPage = document.getElementById("select-page");
  const densityToggle = document.querySelector("[data-density-toggle]");
  const DENSITY_COOKIE = "queue_density";
  const FOCUS_KEY = "queue-focus:" + location.pathname;
  const reasons = Array.from(document.querySelectorAll("#bulk-reason option, .reject-form select[name=reason] option"))
    .map((option) => option.value)
    .filter((value, index, all) => value && all.indexOf(value) === index);

  const undoStack = []; // [{action, items: [{id, card, author}]}], newest last
  let pending = null; // {kind: "reject", card} or {kind: "bulk"}: waiting for a reason digit
  let focusBeforeHelp = null;

  // ---- cards and focus ---------------------------------------------------------------

  function cards() {
    return Array.from(queue.querySelectorAll(":scope > li.card"));
  }

  function currentCard() {
    const active = document.activeElement;
    const focused = active && active.closest ? active.closest("ol.queue > li.card") : null;
    return focused || queue.querySelector(":scope > li.card.current");
  }

  function focusCard(card) {
    if (!card) return;
    for (const other of queue.querySelectorAll(":scope > li.card.current")) {
      other.classList.remove("current");
    }
    card.classList.add("current");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const list = cards();
    if (!list.length) return;
    const current = currentCard();
    const index = list.indexOf(current);
    if (index < 0 || !current.contains(document.activeElement)) {
      // Coming back from elsewhere on the page: start where the moderator left off.
      focusCard(index < 0 ? list[0] : current);
      return;
    }
    focusCard(list[Math.max(0, Math.min(list.length - 1, index + step))]);
  }

  function neighbour(card) {
    const list = cards();
    const index = list.indexOf(card);
    return list[index + 1] || list[index - 1] || null;
  }

  // After a plain-form fallback the page reloads: come back to the same place in the queue.
  function rememberFocus(card) {
    if (!card) return;
    const index = Math.max(0, cards().indexOf(card));
    sessionStorage.setItem(FOCUS_KEY, JSON.stringify({ id: card.dataset.commentId, index }));
  }

  function restoreFocus() {
    const saved = sessionStorage.getItem(FOCUS_KEY);
    sessionStorage.removeItem(FOCUS_KEY);
    if (!saved) return;
    try {
      const { id, index } = JSON.parse(saved);
      const list = cards();
      const byId = list.find((card) => card.dataset.commentId === String(id));
      focusCard(byId || list[Math.min(index, list.length - 1)]);
    } catch (error) {
      /* an old or foreign value: start at the top */
    }
  }

  // ---- messages and counts -----------------------------------------------------------

  function say(message, kind, outcome) {
    // A new outcome replaces the server's flash (and its undo) from the last page load.
    if (outcome) {
      for (const old of document.querySelectorAll("main > .flash, [data-undo-form]")) old.remove();
    }
    live.textContent = "";
    live.className = "live flash flash-" + (kind || "info");
    live.textContent = message;
  }

  function bump(name, delta) {
    // With a filter a band reads "12 of 340": both numbers move.
    for (const number of document.querySelectorAll(".counts .count-" + name + " :is(strong, .count-total)")) {
      number.textContent = String(Math.max(0, Number(number.textContent) + delta));
    }
  }

  function recount(card, finalState, delta) {
    // delta -1: the card leaves the queue for finalState; +1: an undo brings it back.
    // The bands as counted: an unscored comment counts as unscored, not by its state.
    bump(card.dataset.unscored === "true" ? "unscored" : card.dataset.state, delta);
    const waiting = ["held", "queued", "unscored"].reduce((sum, name) => {
      const number = document.querySelector(".counts .count-" + name + " .count-total")
        || document.querySelector(".counts .count-" + name + " strong");
      return sum + (number ? Number(number.textContent) : 0);
    }, 0);
    document.title = document.title.replace(/^Queue \(\d+\)/, "Queue (" + waiting + ")");
  }

  function updateSelected() {
    const output = document.getElementById("selected-count");
    const boxes = queue.querySelectorAll("input[name=ids]:checked");
    if (output) output.textContent = String(boxes.length);
    for (const card of cards()) {
      const box = card.querySelector("input[name=ids]");
      card.classList.toggle("selected", Boolean(box && box.checked));
    }
    // The bar is there only while it has something to act on.
    if (bulkForm) bulkForm.hidden = boxes.length === 0;
    if (selectPage) {
      const all = queue.querySelectorAll("input[name=ids]").length;
      selectPage.checked = all > 0 && boxes.length === all;
      selectPage.indeterminate = boxes.length > 0 && boxes.length < all;
    }
  }

  // ---- errors on the card they belong to ---------------------------------------------

  function clearCardError(card) {
    for (const old of card.querySelectorAll(".card-error")) old.remove();
    card.classList.remove("has-error");
    for (const field of card.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
    }
  }

  // The message sits beside the reason and note; the field to fix takes the focus.
  function showCardError(card, message, fieldName, action) {
    clearCardError(card);
    const error = document.createElement("p");
    error.className = "card-error";
    error.id = "card-error-" + card.dataset.commentId;
    error.setAttribute("role", "alert");
    error.textContent = message;
    const actions = card.querySelector(".actions");
    if (actions) actions.after(error);
    else card.querySelector(".card-main").appendChild(error);
    card.classList.add("has-error");
    focusCard(card);
    const form = card.querySelector("form[data-decision=" + (action || "reject") + "]");
    const field = fieldName && form ? form.elements[fieldName] : null;
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", error.id);
      field.focus();
    }
  }

  // What a reject still lacks, said before asking the server (the same words it would use).
  function missingForReject(reason, note) {
    if (!reason) return ["Choose a reason for rejecting.", "reason"];
    if (reason === "other" && !(note || "").trim()) {
      return ["Rejecting for \u201cother\u201d needs a note saying why.", "note"];
    }
    return null;
  }

  function showUndo() {
    if (undoButton) undoButton.hidden = undoStack.length === 0;
  }

  // ---- removing and bringing back cards ----------------------------------------------

  function removeCard(card, action) {
    const next = neighbour(card);
    const wasCurrent = currentCard() === card;
    recount(card, action, -1);
    const box = card.querySelector("input[name=ids]");
    if (box) box.checked = false;
    card.classList.remove("current", "selected", "awaiting-reason");
    card.remove();
    updateSelected();
    if (wasCurrent || !currentCard()) {
      if (next) focusCard(next);
    }
    if (!cards().length && !queue.querySelector(".empty")) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "Nothing left on this page. Reload for more.";
      queue.appendChild(empty);
    }
  }

  function restoreCard(card, action) {
    const position = Number(card.dataset.position);
    const later = cards().find((other) => Number(other.dataset.position) > position);
    const empty = queue.querySelector(":scope > li.empty");
    if (empty) empty.remove();
    queue.insertBefore(card, later || null);
    recount(card, action, +1);
    focusCard(card);
  }

  // ---- the JSON API, and the plain forms behind it -----------------------------------

  function api(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken,
      },
      body: JSON.stringify(body),
    });
  }

  async function problemOf(response) {
    try {
      const data = await response.json();
      return { message: data.message || data.error || "That did not work (" + response.status + ").",
               field: data.field || null };
    } catch (error) {
      return { message: "That did not work (" + response.status + ").", field: null };
    }
  }

  async function messageOf(response) {
    return (await problemOf(response)).message;
  }

  function submitPlainly(form, focusAfter) {
    rememberFocus(focusAfter);
    HTMLFormElement.prototype.submit.call(form);
  }

  function hiddenForm(action, fields) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    form.hidden = true;
    const values = Object.assign({ csrf_token: csrfToken, next: location.pathname + location.search }, fields);
    for (const [name, value] of Object.entries(values)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    return form;
  }

  function decidedText(action, count, conflicts, missing) {
    const parts = [(action === "approve" ? "Approved " : "Rejected ") + count];
    const messages = Object.values(conflicts || {});
    if (messages.length) {
      const names = new Set();
      for (const message of messages) {
        const match = / by (.+?) at \d{4}-\d\d-\d\d /.exec(message);
        if (match) names.add(match[1]);
      }
      parts.push(messages.length + " already decided" + (names.size ? " by " + Array.from(names).sort().join(", ") : ""));
    }
    if (missing && missing.length) parts.push(missing.length + " no longer there");
    return parts.join("; ") + ".";
  }

  async function decide(card, action, reason, note) {
    if (!card || card.dataset.busy) return;
    const form = card.querySelector("form[data-decision=" + action + "]");
    if (!form) return; // a published card (Reported band) is taken down by its own form
    if (action === "reject") {
      form.elements.reason.value = reason || "";
      if (note !== undefined) form.elements.note.value = note;
      note = form.elements.note.value;
      const missing = missingForReject(reason, note);
      if (missing) {
        showCardError(card, missing[0], missing[1], action);
        return;
      }
    }
    clearCardError(card);
    card.dataset.busy = "true";
    const body = { action };
    if (action === "reject") {
      body.reason = reason;
      if (note && note.trim()) body.note = note;
    }
    let response;
    try {
      response = await api("/api/v1/comments/" + card.dataset.commentId + "/decision", body);
    } catch (error) {
      response = null;
    }
    delete card.dataset.busy;
    if (response && response.ok) {
      removeCard(card, action);
      undoStack.push({ action, items: [{ id: card.dataset.commentId, card, author: card.dataset.author }] });
      showUndo();
      say((action === "approve" ? "Approved" : "Rejected") + " the comment by " + card.dataset.author + ".", "success", true);
    } else if (response && response.status === 409) {
      // Someone else decided it first: it is no longer ours to decide.
      const message = await messageOf(response);
      removeCard(card, null);
      say(message, "error", true);
    } else if (response && (response.status === 422 || response.status === 400)) {
      const problem = await problemOf(response);
      showCardError(card, problem.message, problem.field, action);
    } else {
      submitPlainly(form, neighbour(card) || card);
    }
  }

  async function undoLast() {
    const last = undoStack.pop();
    showUndo();
    if (!last) {
      // A decision made before the last page load: the server offered its own undo form.
      const form = document.querySelector("[data-undo-form]");
      if (form) {
        sessionStorage.setItem(FOCUS_KEY, JSON.stringify({ id: form.dataset.commentId, index: 0 }));
        HTMLFormElement.prototype.submit.call(form);
      } else {
        say("Nothing to undo.", "info");
      }
      return;
    }
    let undone = 0;
    for (const item of last.items) {
      let response;
      try {
        response = await api("/api/v1/comments/" + item.id + "/decision", { action: "undo" });
      } catch (error) {
        response = null;
      }
      if (response && response.ok) {
        restoreCard(item.card, last.action);
        undone += 1;
      } else if (response && (response.status === 409 || response.status === 422)) {
        say(await messageOf(response), "error", true);
        return;
      } else {
        sessionStorage.setItem(FOCUS_KEY, JSON.stringify({ id: item.id, index: 0 }));
        HTMLFormElement.prototype.submit.call(hiddenForm("/queue/" + item.id + "/undo", {}));
        return;
      }
    }
    if (undone === 1) {
      say("Undone: the comment by " + last.items[0].author + " is back in the queue.", "success", true);
    } else {
      say("Undone: " + undone + " comments are back in the queue.", "success", true);
    }
  }

  async function bulkDecide(action, reason, note) {
    const boxes = Array.from(queue.querySelectorAll("input[name=ids]:checked"));
    if (!boxes.length) {
      say("Select comments first: x on a card, or its checkbox.", "info");
      return;
    }
    if (action === "reject" && !reason) {
      say("Choose a reason for rejecting.", "error");
      return;
    }
    const ids = boxes.map((box) => Number(box.value));
    const body = { ids, action };
    if (reason) body.reason = reason;
    if (note && note.trim()) body.note = note;
    let response;
    try {
      response = await api("/api/v1/decisions/bulk", body);
    } catch (error) {
      response = null;
    }
    if (response && response.ok) {
      let data;
      try {
        data = await response.json();
      } catch (error) {
        data = { decided: [], conflicts: {}, missing: [] };
      }
      const decided = (data.decided || []).map(String);
      const gone = decided.concat(Object.keys(data.conflicts || {}), (data.missing || []).map(String));
      const items = [];
      for (const card of cards()) {
        const id = card.dataset.commentId;
        if (!gone.includes(id)) continue;
        if (decided.includes(id)) items.push({ id, card, author: card.dataset.author });
        removeCard(card, decided.includes(id) ? action : null);
      }
      if (items.length) undoStack.push({ action, items });
      showUndo();
      say(decidedText(action, decided.length, data.conflicts, data.missing), decided.length ? "success" : "info", true);
    } else if (response && (response.status === 409 || response.status === 422)) {
      say(await messageOf(response), "error", true);
    } else if (bulkForm) {
      bulkForm.elements.reason.value = reason || "";
      if (note !== undefined) bulkForm.elements.note.value = note;
      const command = document.createElement("input");
      command.type = "hidden";
      command.name = "command";
      command.value = action + ":selected";
      bulkForm.appendChild(command);
      submitPlainly(bulkForm, currentCard());
    }
  }

  // ---- reasons by digit --------------------------------------------------------------

  function legendCard() {
    if (pending && pending.card) return pending.card;
    return currentCard() || queue.querySelector(":scope > li.card.selected");
  }

  function askReason(next) {
    cancelReason();
    pending = next;
    const card = legendCard();
    const legend = document.getElementById("reason-keys");
    if (card) {
      card.classList.add("awaiting-reason");
      if (legend) {
        card.querySelector(".card-main").appendChild(legend);
        legend.hidden = false;
      }
    }
    const what = next.kind === "bulk" ? "Reject the selected comments" : "Reject";
    say(what + ": press 1–" + reasons.length + " for the reason, Esc to cancel.", "info");
  }

  function cancelReason() {
    for (const card of queue.querySelectorAll(".awaiting-reason")) {
      card.classList.remove("awaiting-reason");
    }
    const legend = document.getElementById("reason-keys");
    if (legend) {
      legend.hidden = true;
      queue.after(legend);  // home again, so it outlives a card the decision removes
    }
    pending = null;
  }

  function chooseReason(digit) {
    const reason = reasons[digit - 1];
    if (!reason) return;
    const waiting = pending;
    cancelReason();
    if (waiting.kind === "reject") {
      const form = waiting.card.querySelector("form[data-decision=reject]");
      if (reason === "other") {
        form.elements.reason.value = reason;
        form.elements.note.focus();
        say("Type a note saying why, then press Enter.", "info");
        return;
      }
      decide(waiting.card, "reject", reason);
    } else if (waiting.kind === "bulk") {
      if (reason === "other" && bulkForm) {
        bulkForm.elements.reason.value = reason;
        bulkForm.elements.note.focus();
        say("Type a note saying why, then press Enter to reject the selected comments.", "info");
        return;
      }
      bulkDecide("reject", reason, bulkForm ? bulkForm.elements.note.value : "");
    }
  }

  // ---- help --------------------------------------------------------------------------

  function toggleHelp(open) {
    if (!help) return;
    const show = open === undefined ? help.hidden : open;
    if (show === !help.hidden) return;
    if (show) {
      focusBeforeHelp = currentCard();
      help.hidden = false;
      help.querySelector(".help-box").focus();
    } else {
      help.hidden = true;
      if (focusBeforeHelp && focusBeforeHelp.isConnected) focusCard(focusBeforeHelp);
    }
  }

  // ---- wiring ------------------------------------------------------------------------

  function isTyping(target) {
    if (!target || !target.closest) return false;
    if (target.closest("textarea, select, [contenteditable]:not([contenteditable=false])")) return true;
    const input = target.closest("input");
    return Boolean(input) && !["checkbox", "radio", "button", "submit", "reset"].includes(input.type);
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    let key = event.key;
    // Shift, not Caps Lock, makes A and R act on the whole selection.
    if (/^[a-z]$/i.test(key)) key = event.shiftKey ? key.toUpperCase() : key.toLowerCase();
    if (key === "Escape") {
      if (help && !help.hidden) {
        toggleHelp(false);
      } else if (pending) {
        cancelReason();
        say("Cancelled.", "info");
      } else if (isTyping(event.target)) {
        event.target.blur();
        focusCard(currentCard() || cards()[0]);
      } else {
        return;
      }
      event.preventDefault();
      return;
    }
    if (key === "Enter" && bulkForm && event.target === bulkForm.elements.note) {
      // Enter in the bulk note rejects with the chosen reason (never the first button's approve).
      event.preventDefault();
      bulkDecide("reject", bulkForm.elements.reason.value, bulkForm.elements.note.value);
      return;
    }
    if (isTyping(event.target)) return;
    if (help && !help.hidden) {
      if (key === "?") {
        toggleHelp(false);
        event.preventDefault();
      }
      return;
    }
    if (pending) {
      event.preventDefault();
      if (/^[1-9]$/.test(key)) {
        chooseReason(Number(key));
      } else if (!["Shift", "CapsLock"].includes(key)) {
        cancelReason();
        say("Cancelled.", "info");
      }
      return;
    }
    const card = currentCard();
    switch (key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "a":
        if (!card) return;
        decide(card, "approve");
        break;
      case "r":
        if (!card) return;
        askReason({ kind: "reject", card });
        break;
      case "x": {
        if (!card) return;
        const box = card.querySelector("input[name=ids]");
        box.checked = !box.checked;
        updateSelected();
        break;
      }
      case "A":
        bulkDecide("approve");
        break;
      case "R":
        if (!queue.querySelector("input[name=ids]:checked")) {
          say("Select comments first: x on a card, or its checkbox.", "info");
          break;
        }
        askReason({ kind: "bulk" });
        break;
      case "u":
        undoLast();
        break;
      case "/":
        if (!search) return;
        search.focus();
        search.select();
        break;
      case "?":
        toggleHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const card = form.closest("ol.queue > li.card");
    if (card && form.dataset.decision) {
      event.preventDefault();
      const action = form.dataset.decision;
      if (action === "approve") decide(card, "approve");
      else decide(card, "reject", form.elements.reason.value, form.elements.note.value);
      return;
    }
    if (form === bulkForm) {
      const command = event.submitter ? event.submitter.value : "";
      if (command.endsWith(":matching")) {
        if (!window.confirm(event.submitter.dataset.confirm || "Decide every matching comment?")) {
          event.preventDefault();
        }
        return;
      }
      if (command.endsWith(":selected")) {
        event.preventDefault();
        bulkDecide(command.split(":")[0], form.elements.reason.value, form.elements.note.value);
      }
    }
  });

  queue.addEventListener("change", (event) => {
    if (event.target.matches("input[name=ids]")) updateSelected();
  });

  queue.addEventListener("click", (event) => {
    // The card clicked is where the keys act next.
    const card = event.target.closest("ol.queue > li.card");
    if (!card) return;
    for (const other of queue.querySelectorAll(":scope > li.card.current")) {
      other.classList.remove("current");
    }
    card.classList.add("current");
  });

  for (const button of document.querySelectorAll("[data-help-toggle]")) {
    button.hidden = false;
    button.addEventListener("click", () => toggleHelp());
  }
  if (help) {
    help.addEventListener("click", (event) => {
      if (event.target === help) toggleHelp(false);
    });
  }
  if (undoButton) undoButton.addEventListener("click", () => undoLast());

  // ---- density: one line per card, or the whole card --------------------------------

  function setDensity(compact) {
    queue.classList.toggle("compact", compact);
    const value = compact ? "compact" : "comfortable";
    document.cookie = DENSITY_COOKIE + "=" + value + "; path=/queue/; max-age=31536000; SameSite=Lax";
    if (densityToggle) {
      densityToggle.textContent = compact ? "Full cards" : "Compact: one line each";
      const next = new URL(densityToggle.href, location.href);
      next.searchParams.set("density", compact ? "comfortable" : "compact");
      densityToggle.href = next.pathname + next.search;
    }
    const card = currentCard();
    if (card) card.scrollIntoView({ block: "nearest" });
  }

  if (densityToggle) {
    densityToggle.addEventListener("click", (event) => {
      event.preventDefault();
      setDensity(!queue.classList.contains("compact"));
    });
  }

  if (selectPage) {
    selectPage.closest("label").hidden = false;
    selectPage.addEventListener("change", () => {
      for (const box of queue.querySelectorAll("input[name=ids]")) box.checked = selectPage.checked;
      updateSelected();
    });
  }
  if (bulkForm) bulkForm.classList.add("bar");
  // Our own message on the card replaces the browser's bubble for a missing reason.
  for (const form of queue.querySelectorAll("form[data-decision]")) form.noValidate = true;
  queue.addEventListener("change", (event) => {
    const card = event.target.closest("ol.queue > li.card");
    if (card && event.target.closest("form[data-decision]")) clearCardError(card);
  });

  for (const [index, card] of cards().entries()) card.dataset.position = String(index);
  updateSelected();
  restoreFocus();
  // Every handler is bound: keys pressed from now on are heard (tests wait for this).
  document.body.dataset.keyboardReady = "true";
})();
