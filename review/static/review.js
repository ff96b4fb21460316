// Keyboard moderation: j/k move, f approves, d opens the reject form, b/p act on the author,
// x selects for a bulk action, o opens the comment, ? shows help. Without this file every
// action still works as a plain form.
(function () {
  "use strict";
  let cards = [];
  let current = -1;
  let chain = Promise.resolve();

  function refresh() {
    cards = Array.from(document.querySelectorAll("#cards .card"));
  }

  // The selected card is marked for sight (.selected) and for assistive technology (aria-current,
  // focus), so a screen reader announces it and Tab continues inside it. The first selection, on
  // load, does not scroll: the page opens at its top, filters and all.
  function mark(card) {
    cards.forEach(function (c) {
      c.classList.toggle("selected", c === card);
      if (c === card) { c.setAttribute("aria-current", "true"); } else { c.removeAttribute("aria-current"); }
    });
  }

  function select(index, initial) {
    refresh();
    if (!cards.length) { current = -1; return; }
    current = Math.max(0, Math.min(index, cards.length - 1));
    mark(cards[current]);
    cards[current].focus({preventScroll: true});
    if (!initial) { cards[current].scrollIntoView({block: "nearest"}); }  // below the sticky header: .card's scroll-margin-top
  }

  function measureHeader() {
    const header = document.querySelector("header.top");
    const sticky = header && window.getComputedStyle(header).position === "sticky";
    document.documentElement.style.setProperty("--header-height", (sticky ? header.offsetHeight : 0) + "px");
  }

  // A message is text, never HTML; a link (the comment a decision was made on, to find it again and
  // overturn a mistake) replaces the last mention of its text.
  function flash(message, kind, link) {
    const box = document.getElementById("flash");
    const line = document.createElement("p");
    line.className = "flash " + (kind || "info");
    const at = link ? message.lastIndexOf(link.text) : -1;
    if (at < 0) {
      line.textContent = message;
    } else {
      const anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      line.append(message.slice(0, at), anchor, message.slice(at + link.text.length));
    }
    box.replaceChildren(line);
  }

  // Every card by the author a decision or a status change was about shows their record as it now is.
  function updateAuthor(record) {
    if (!record) { return; }
    document.querySelectorAll(".card .author").forEach(function (line) {
      if (line.dataset.site !== record.site_id || line.dataset.author !== record.author_id) { return; }
      const h = record.history || {};
      line.querySelector(".strikes").textContent = record.strikes + " strike" + (record.strikes === 1 ? "" : "s");
      const status = line.querySelector(".status");
      status.textContent = record.status;
      status.className = "status " + record.status;
      line.querySelector(".history").textContent = ["pending", "reported", "rejected", "approved"].map(function (q) {
        return q + " " + (h[q] || 0);
      }).join(", ");
    });
  }

  // A card that stays on the page after its decision (the comment's or the author's page) now shows that
  // decision: the next decision from it is a correction of it, not one over a decision it never showed.
  // A card left on the page (the comment's or the author's) shows the decision just made, as a reload would.
  function updateDecided(card, decided) {
    if (typeof decided !== "string" || !card.isConnected) { return; }
    let line = card.querySelector("p.decided");
    if (!line) {
      line = document.createElement("p");
      line.className = "decided";
      card.insertBefore(line, card.querySelector(".actions"));
    }
    line.textContent = decided;
  }

  // ... and ticks its "allowed here, but still" boxes as the decision left them (none after a rejection).
  function updateAllowed(card, allowed) {
    if (!Array.isArray(allowed) || !card.isConnected) { return; }
    card.querySelectorAll("input[name=allowed]").forEach(function (box) { box.checked = allowed.includes(box.value); });
  }

  function updateSeen(card, seen) {
    if (typeof seen !== "string" || !card.isConnected) { return; }
    card.querySelectorAll("input[name=seen]").forEach(function (field) { field.value = seen; });
    const box = card.querySelector("input[name=item]");
    if (box) { box.value = box.value.split(":").slice(0, 2).concat([seen]).join(":"); }
  }

  // A form that asks first (data-confirm) tells the server it did; without that the server asks on a
  // page of its own (the plain-form way, without this script).
  function askFirst(form) {
    if (!form.dataset.confirm) { return true; }
    if (!window.confirm(form.dataset.confirm)) { return false; }
    let field = form.querySelector("input[name=confirmed]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "confirmed";
      form.appendChild(field);
    }
    field.value = "1";
    return true;
  }

  // The header's badges count whole queues; the heading counts this list (the queue under the
  // page's filters), and so does the page title.
  function updateCounts(answer) {
    const counts = answer.counts || {};
    const shown = answer.shown || counts;
    Object.keys(counts).forEach(function (queue) {
      document.querySelectorAll('.count[data-queue="' + queue + '"]').forEach(function (el) {
        el.textContent = String(counts[queue]);
      });
    });
    document.querySelectorAll(".count[data-shown]").forEach(function (el) {
      const queue = el.dataset.shown;
      if (!(queue in shown)) { return; }
      el.textContent = String(shown[queue]);
      document.title = document.title.replace(/\(\d+\)/, "(" + shown[queue] + ")");
    });
  }

  // Send a card's form in the background; on success the card leaves the page. Requests go one
  // at a time, in order, so fast typing never races the server.
  function onQueuePage() {
    // A queue, whose decided cards leave it; not a page where a decided card stays and shows its new
    // decision (a comment's, an author's, My decisions), so that a slip is corrected from it at once.
    return document.querySelector("#cards[data-queue]") !== null;
  }

  // Once the server says the session has ended (an answer of "signed_out", or a sign-in page where an
  // answer was due), nothing more is sent: each action still waiting is named as not done, with a link
  // to sign in again and come back to this page.
  let signIn = null;
  const notDone = [];

  function signedOut(form, card, login) {
    signIn = signIn || login;
    const author = form.querySelector("input[name=author_id]");
    if (form.matches("form.author-blocked, form.author-premod")) {
      notDone.push("author " + author.value + " was not " + (form.matches(".author-blocked") ? "blocked" : "pre-moderated"));
    } else {
      notDone.push("comment " + card.querySelector("a.cid").textContent + " was not decided");
    }
    flash("Your session has expired: sign in again; " + notDone.join("; ") + ".", "error",
          {href: signIn, text: "sign in again"});
  }

  function answered(form, card, response, answer) {
    if ((answer && answer.signed_out) || (!answer && response.redirected && /\/login$/.test(new URL(response.url).pathname))) {
      signedOut(form, card, answer ? answer.login : response.url);
      return;
    }
    if (!answer) {
      flash("The server answered " + response.status + " without saying why; reloading.", "error");
      window.location.reload();
      return;
    }
    updateCounts(answer);
    updateAuthor(answer.author);
    updateSeen(card, answer.seen);
    updateDecided(card, answer.decided);
    updateAllowed(card, answer.allowed);
    flash(answer.message, answer.ok ? "info" : "error", answer.link);
    if (!answer.ok) { window.location.reload(); }
  }

  function send(form, card, removeCard) {
    refresh();
    if (cards.indexOf(card) >= 0) { current = cards.indexOf(card); }
    if (removeCard) {
      card.classList.add("leaving");
      card.remove();
      select(current);
    }
    chain = chain.then(function () {
      if (signIn) { signedOut(form, card, null); return undefined; }
      return fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                                 headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (answer) {
            answered(form, card, response, answer);
          });
        })
        .catch(function () { flash("The server did not answer; reloading.", "error"); window.location.reload(); });
    }).then(function () {
      refresh();
      if (removeCard && !cards.length && !signIn) { window.location.reload(); }
    });
  }

  // A bulk action asks first, naming how many comments and the reason; a bulk reject needs a reason chosen.
  function confirmBulk(form, decision) {
    const count = document.querySelectorAll("input[name=item][form=bulk]:checked").length;
    const reason = form.querySelector("select[name=code]");
    if (!count) { return true; }  // the server says to select comments first
    const comments = count + " comment" + (count === 1 ? "" : "s");
    if (decision !== "reject") { return window.confirm("Approve " + comments + "?"); }
    if (!reason.value) {
      flash("Choose a reason for rejecting the selected comments.", "error");
      reason.focus();
      return false;
    }
    return window.confirm("Reject " + comments + " as " + reason.value + "?");
  }

  function act(selector, removeCard) {
    if (current < 0) { return; }
    const card = cards[current];
    const form = card.querySelector(selector);
    if (!form) { return; }
    if (!askFirst(form)) { return; }
    send(form, card, removeCard);
  }

  function openReject() {
    if (current < 0) { return; }
    const details = cards[current].querySelector("details.reject");
    if (!details) { return; }
    details.open = true;
    details.querySelector("select").focus();
  }

  function typing(target) {
    // A ticked checkbox keeps the keys working (tick "allowed here, still ...", then f approves).
    if (target && target.tagName === "INPUT" && target.type === "checkbox") { return false; }
    return target && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    const help = document.getElementById("help");
    const rejectForm = event.target.closest && event.target.closest(".reject-form");
    if (rejectForm && event.key === "Enter" && (event.target.tagName !== "TEXTAREA" || event.ctrlKey)) {
      event.preventDefault();
      send(rejectForm, rejectForm.closest(".card"), onQueuePage());
      return;
    }
    const box = event.target.matches && event.target.matches("input[name=allowed]");
    if (box && event.key === "Enter") {  // a box is ticked with Space; Enter would approve the comment there and then
      event.preventDefault();
      return;
    }
    if (event.key === "Escape" && (typing(event.target) || box)) {
      const details = event.target.closest("details");
      if (details) { details.open = false; }
      event.target.blur();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    const removes = onQueuePage();
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "f": act("form.approve", removes); break;
      case "d": openReject(); break;
      case "b": act("form.author-blocked", false); break;
      case "p": act("form.author-premod", false); break;
      case "x": {  // pages without a bulk form have no checkboxes
        const box = current >= 0 && cards[current].querySelector("input[type=checkbox][name=item]");
        if (box) { box.checked = !box.checked; }
        break;
      }
      case "o": if (current >= 0) { cards[current].querySelector("a.cid").click(); } break;
      case "?": if (help.open) { help.close(); } else { help.showModal(); } break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.id === "bulk") {
      if (!confirmBulk(form, event.submitter && event.submitter.value)) { event.preventDefault(); }
      return;
    }
    if (!askFirst(form)) { event.preventDefault(); return; }
    const card = form.closest && form.closest(".card");
    if (!card) { return; }
    if (form.matches("form.approve, form.reject-form")) {
      event.preventDefault();
      send(form, card, onQueuePage());
    }
  });

  document.addEventListener("click", function (event) {
    const card = event.target.closest && event.target.closest(".card");
    if (card) { refresh(); current = cards.indexOf(card); mark(card); }
    if (event.target.closest && event.target.closest("[data-help]")) {  // a link to the help page without this script
      event.preventDefault();
      document.getElementById("help").showModal();
    }
  });

  window.addEventListener("resize", measureHeader);
  document.addEventListener("DOMContentLoaded", function () {
    measureHeader();
    select(0, true);
    document.body.dataset.ready = "1";
  });
})();
