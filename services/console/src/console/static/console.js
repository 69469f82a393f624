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
