// The web chat without page loads: forms are posted in the background, the answers and a
// counsellor's messages arrive over server-sent events (/e), the quick exit leaves no trace.
// Everything works without this script too, as plain forms.
(function () {
  "use strict";
  var token = meta("t");
  var exitUrl = meta("x");
  var log = document.getElementById("log");
  var leaving = false;

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.content : "";
  }

  function leave() {
    if (leaving) return;
    leaving = true;
    document.title = "";
    document.body.innerHTML = "";
    var gone = false;
    function go() {
      if (!gone) { gone = true; location.replace(exitUrl); }
    }
    try {
      fetch("/x", { method: "POST", body: new URLSearchParams({ t: token }), keepalive: true,
        headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" }).then(go, go);
    } catch (error) { go(); }
    setTimeout(go, 1500);
  }

  function element(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function onlyNewestChoices() {
    var screens = log.querySelectorAll(".entry.screen");
    for (var i = 0; i < screens.length - 1; i++) {
      var choices = screens[i].querySelector(".choices");
      if (choices) choices.remove();
    }
  }

  function apply(op, mine) {
    if (op.put) {
      var preview = document.getElementById("m0"); // the first screen, shown before it began
      if (preview) preview.remove();
      var entry = element(op.html);
      var old = document.getElementById(op.put);
      if (old) { old.replaceWith(entry); } else { log.appendChild(entry); }
      if (entry.classList.contains("screen")) {
        onlyNewestChoices();
        if (mine) entry.focus({ preventScroll: true });
      }
      // a new screen is read from its top (a long one would show its end); others just come into view
      var top = mine && entry.classList.contains("screen");
      entry.scrollIntoView({ block: top ? "start" : "nearest" });
    } else if (op.drop) {
      op.drop.forEach(function (id) {
        var gone = document.getElementById(id);
        if (gone) gone.remove();
      });
    } else if (op.sync !== undefined) {
      log.innerHTML = op.sync;
      onlyNewestChoices();
    }
  }

  function answered(response) {
    if (response.exit) { leave(); return; }
    if (response.lang && response.lang !== document.documentElement.lang) {
      location.reload();
      return;
    }
    (response.ops || []).forEach(function (op) { apply(op, true); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var action = form.getAttribute("action");
    event.preventDefault();
    if (action === "/x") { leave(); return; }
    var data = new URLSearchParams(new FormData(form));
    if (event.submitter && event.submitter.name) data.set(event.submitter.name, event.submitter.value);
    data.set("t", token);
    var box = action === "/s" ? form.querySelector("textarea") : null;
    var typed = box ? box.value : "";
    if (box) {
      if (!typed.trim()) return;
      box.value = "";
    }
    form.classList.add("busy");
    fetch(action, { method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" } })
      .then(function (reply) {
        if (!reply.ok) throw new Error(String(reply.status));
        return reply.json();
      })
      .then(function (response) {
        answered(response);
        if (response.unsent && box && !box.value) box.value = typed; // too fast: not sent
      })
      .catch(function () {
        // not sent (the server is away, or refused it): the text is back in the box, not lost
        if (box && !box.value) box.value = typed;
      })
      .then(function () { form.classList.remove("busy"); });
  });

  document.getElementById("text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      document.getElementById("say").requestSubmit();
    }
  });

  var escapes = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var now = Date.now();
    escapes = escapes.filter(function (at) { return now - at < 2000; });
    escapes.push(now);
    if (escapes.length >= 3) leave();
  });

  if (window.EventSource) {
    var events = new EventSource("/e");
    events.onopen = function () { document.documentElement.classList.add("live"); };
    events.onerror = function () { document.documentElement.classList.remove("live"); };
    events.onmessage = function (message) {
      var op = JSON.parse(message.data);
      if (op.gone) { leave(); return; }
      apply(op, false);
    };
  }
})();
