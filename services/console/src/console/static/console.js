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
