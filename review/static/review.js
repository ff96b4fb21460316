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

  function select(index) {
    refresh();
    if (!cards.length) { current = -1; return; }
    current = Math.max(0, Math.min(index, cards.length - 1));
    cards.forEach(function (card, i) { card.classList.toggle("selected", i === current); });
    cards[current].scrollIntoView({block: "nearest"});
  }

  function flash(message, kind) {
    const box = document.getElementById("flash");
    const line = document.createElement("p");
    line.className = "flash " + (kind || "info");
    line.textContent = message;  // never HTML
    box.replaceChildren(line);
  }

  function updateCounts(counts) {
    Object.keys(counts || {}).forEach(function (queue) {
      document.querySelectorAll('.count[data-queue="' + queue + '"]').forEach(function (el) {
        el.textContent = String(counts[queue]);
      });
    });
  }

  // Send a card's form in the background; on success the card leaves the page. Requests go one
  // at a time, in order, so fast typing never races the server.
  function onQueuePage() {
    return document.querySelector("#cards[data-queue]") !== null;  // a queue, not one comment or an author
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
      return fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                                 headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (answer) {
            updateCounts(answer.counts);
            flash(answer.message, answer.ok ? "info" : "error");
            if (!answer.ok) { window.location.reload(); }
          });
        })
        .catch(function () { flash("The server did not answer; reloading.", "error"); window.location.reload(); });
    }).then(function () {
      refresh();
      if (removeCard && !cards.length) { window.location.reload(); }
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
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { return; }
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
    if (event.key === "Escape" && typing(event.target)) {
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
      case "x": if (current >= 0) { const box = cards[current].querySelector("input[type=checkbox]"); box.checked = !box.checked; } break;
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
    const card = form.closest && form.closest(".card");
    if (!card) { return; }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    if (form.matches("form.approve, form.reject-form")) {
      event.preventDefault();
      send(form, card, onQueuePage());
    }
  });

  document.addEventListener("click", function (event) {
    const card = event.target.closest && event.target.closest(".card");
    if (card) { refresh(); current = cards.indexOf(card); cards.forEach(function (c) { c.classList.toggle("selected", c === card); }); }
    if (event.target.matches && event.target.matches("[data-help]")) { document.getElementById("help").showModal(); }
  });

  document.addEventListener("DOMContentLoaded", function () { select(0); document.body.dataset.ready = "1"; });
})();
