// Countdowns that are ticking (inside working hours) count down once a minute between page loads;
// the page works without this file (JavaScript off: the figures are those of the page's load).
(function () {
  "use strict";
  function label(seconds) {
    var minutes = Math.max(0, Math.floor(seconds / 60));
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    return "剩 " + (hours ? hours + "小时" + (rest < 10 ? "0" : "") + rest + "分" : rest + "分");
  }
  function tick() {
    var nodes = document.querySelectorAll(".sla[data-left]");
    for (var i = 0; i < nodes.length; i++) {
      var left = parseInt(nodes[i].getAttribute("data-left"), 10) - 60;
      nodes[i].setAttribute("data-left", String(left));
      var text = nodes[i].querySelector(".left");
      if (text) { text.textContent = label(left); }
    }
  }
  window.setInterval(tick, 60000);
}());

// Phone intake: knowledge-base suggestions under the description as it is typed (a partial from
// /intake/suggestions, same origin, the session cookie; without JavaScript the form works alone).
(function () {
  "use strict";
  var field = document.querySelector("textarea[data-suggest]");
  if (!field || !window.fetch) { return; }
  var into = document.getElementById(field.getAttribute("data-suggest-into"));
  var model = document.getElementById(field.getAttribute("data-suggest-model"));
  var timer = null, asked = "";
  function ask() {
    var q = field.value.trim();
    var url = field.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q) +
      (model && model.value ? "&product_model=" + encodeURIComponent(model.value.trim()) : "");
    if (url === asked) { return; }
    asked = url;
    window.fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (asked === url) { into.innerHTML = html; } })
      .catch(function () { /* suggestions are a help, never in the way */ });
  }
  field.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 400);
  });
}());

// Live updates: a page with data-live opens its event stream (/live, Server-Sent Events). The
// server says only "something changed" (never a record): the page fetches itself again with the
// user's own session and swaps its [data-live-part] regions (forms being filled in stay as they
// are: outside the parts, or in a part whose data-live-key — the steps it offers — is unchanged); #live-status tells screen readers and eyes what changed. Without this file the page is
// simply as loaded (reload to see changes).
(function () {
  "use strict";
  var main = document.querySelector("[data-live]");
  if (!main || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var root = document.documentElement;
  var status = document.getElementById("live-status");
  var busy = false, again = null;
  function clock() {
    var d = new Date();
    return (d.getHours() < 10 ? "0" : "") + d.getHours() + ":" +
      (d.getMinutes() < 10 ? "0" : "") + d.getMinutes() + ":" +
      (d.getSeconds() < 10 ? "0" : "") + d.getSeconds();
  }
  function swap(html, message) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var parts = document.querySelectorAll("[data-live-part]");
    for (var i = 0; i < parts.length; i++) {
      var name = parts[i].getAttribute("data-live-part");
      var fresh = doc.querySelector('[data-live-part="' + name + '"]');
      // a part with data-live-key (forms) is replaced only when its key changed (what it offers)
      var key = parts[i].getAttribute("data-live-key");
      if (fresh && (key === null || key !== fresh.getAttribute("data-live-key"))) {
        parts[i].parentNode.replaceChild(document.importNode(fresh, true), parts[i]);
      }
    }
    if (message && status) { status.textContent = message + " " + clock(); }
  }
  function reload(message) {
    if (busy) { again = again || message; return; }
    busy = true;
    window.fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected && r.url.indexOf("/login") !== -1) { window.location.reload(); return ""; }
        return r.ok ? r.text() : "";
      })
      .then(function (html) { if (html) { swap(html, message); } })
      .catch(function () { /* the next change tries again */ })
      .then(function () {
        busy = false;
        if (again !== null) { var m = again; again = null; reload(m); }
      });
  }
  var source = new EventSource(main.getAttribute("data-live"));
  function listening() { root.setAttribute("data-live-state", "open"); }
  source.addEventListener("hello", listening);
  source.addEventListener("error", function () { root.setAttribute("data-live-state", "closed"); });
  source.addEventListener("board", function () { reload("列表已更新 List updated"); });
  source.addEventListener("ticket", function () { reload("工单已更新 Ticket updated"); });
  source.addEventListener("visit", function () { reload("回访已更新 Visit updated"); });
  source.addEventListener("action", function () { reload("措施已更新 Action updated"); });
  source.addEventListener("article", function () { reload("文章已更新 Article updated"); });
  source.addEventListener("refresh", function () { listening(); reload(""); });
}());

// The engineer picker's search: typing narrows the list to names, ids and regions that contain
// what is typed (without JavaScript the whole roster is listed).
(function () {
  "use strict";
  var boxes = document.querySelectorAll("input[data-filter]");
  function narrow(box) {
    var id = box.getAttribute("data-filter");
    var items = document.querySelectorAll("#" + id + " li[data-search]");
    var q = box.value.trim().toLowerCase(), shown = 0;
    for (var i = 0; i < items.length; i++) {
      var hit = !q || items[i].getAttribute("data-search").toLowerCase().indexOf(q) !== -1;
      items[i].hidden = !hit;
      if (hit) { shown++; }
    }
    var empty = document.querySelector('[data-filter-empty="' + id + '"]');
    if (empty) { empty.hidden = shown > 0; }
  }
  for (var i = 0; i < boxes.length; i++) {
    boxes[i].addEventListener("input", function (e) { narrow(e.target); });
  }
}());
