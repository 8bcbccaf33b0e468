// The agent console's keyboard and small conveniences. Served as a file: the page's
// Content-Security-Policy allows scripts from this origin only, never inline ones.
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function plainKey(event) {
    return !(event.ctrlKey || event.metaKey || event.altKey);
  }

  function queuePage() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
    var at = -1;
    function move(to) {
      if (!rows.length) { return; }
      at = Math.max(0, Math.min(rows.length - 1, to));
      rows.forEach(function (row, i) { row.classList.toggle("current", i === at); });
      rows[at].querySelector("a").focus();
    }
    if (rows.length) { move(0); }
    document.addEventListener("keydown", function (event) {
      if (typing(event) || !plainKey(event)) { return; }
      if (event.key === "j") { event.preventDefault(); move(at + 1); }
      else if (event.key === "k") { event.preventDefault(); move(at - 1); }
      else if (event.key === "Enter" && at >= 0) {
        event.preventDefault();
        window.location.assign(rows[at].querySelector("a").href);
      }
    });
  }

  function ticketPage() {
    var form = document.getElementById("act-form");
    if (!form) { return; }
    var reply = document.getElementById("reply");
    var other = document.getElementById("other-template");
    var send = document.getElementById("send");
    var sending = false;

    function pick(n) {
      var box = document.querySelector('.suggestion[data-n="' + n + '"]');
      if (!box) { return; }
      box.querySelector("input[type=radio]").checked = true;
      other.value = "";
      reply.value = box.querySelector("pre.text").textContent;
      highlight();
    }

    function highlight() {
      document.querySelectorAll(".suggestion").forEach(function (box) {
        box.classList.toggle("chosen", box.querySelector("input[type=radio]").checked && !other.value);
      });
    }

    function previewOther() {
      var template = other.value.trim();
      if (!template) { return; }
      var url = window.location.pathname + "/preview?template=" + encodeURIComponent(template);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) { return answer.json(); })
        .then(function (body) {
          if (body.text !== undefined) {
            reply.value = body.text;
            document.querySelectorAll(".suggestion input[type=radio]").forEach(function (r) { r.checked = false; });
            highlight();
          }
        })
        .catch(function () { /* the server renders it on send when the editor is left blank */ });
    }

    function submit(button) {
      if (sending) { return; }
      form.requestSubmit(button);
    }

    document.querySelectorAll(".suggestion input[type=radio]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        pick(radio.closest(".suggestion").dataset.n);
      });
    });
    other.addEventListener("change", previewOther);
    other.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); previewOther(); reply.focus(); }
    });
    reply.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submit(send); }
      else if (event.key === "Escape") { reply.blur(); }
    });
    // A double click sends once: the first submit disables the buttons. (The server holds the
    // same promise with the form's idempotency key, for clicks that race past this.)
    form.addEventListener("submit", function (event) {
      if (sending) { event.preventDefault(); return; }
      sending = true;
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
    document.addEventListener("keydown", function (event) {
      if (typing(event) || !plainKey(event)) { return; }
      var key = event.key;
      if (key === "1" || key === "2" || key === "3") { event.preventDefault(); pick(key); }
      else if (key === "e" || key === "E") { event.preventDefault(); reply.focus(); }
      else if (key === "/") { event.preventDefault(); other.focus(); }
      else if (key === "Enter" && !(event.target && event.target.tagName === "BUTTON")) {
        event.preventDefault();
        submit(send);
      }
      else if (key === "j" || key === "k") {
        var link = document.getElementById(key === "j" ? "older" : "newer");
        if (link) { event.preventDefault(); window.location.assign(link.href); }
      }
    });
    highlight();
  }

  var page = document.body.dataset.page;
  if (page === "queue") { queuePage(); }
  if (page === "ticket") { ticketPage(); }
}());
