// The signature pad of the 维修服务单 (/sheet/<token>): draw with a finger, pen or mouse on the
// canvas (pointer events), "清除" starts over, submitting puts the drawing into the form as a PNG.
// Also on the complaint confirmation (/c/<token>), where the signature is optional (data-optional).
// Our own script, no library; the server checks the PNG again (real PNG, size, not blank).
(function () {
  "use strict";
  var canvas = document.getElementById("pad");
  var form = document.getElementById("sign-form");
  if (!canvas || !form) return;
  var field = document.getElementById("signature");
  var ctx = canvas.getContext("2d");
  var drawn = 0, last = null;

  function paper() {
    var ratio = Math.min(window.devicePixelRatio || 1, 3);
    var box = canvas.getBoundingClientRect();
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, box.width, box.height);
    ctx.lineWidth = 2.6;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    drawn = 0;
    field.value = "";
    form.classList.remove("signed");
  }
  function at(e) {
    var box = canvas.getBoundingClientRect();
    return { x: e.clientX - box.left, y: e.clientY - box.top };
  }
  canvas.addEventListener("pointerdown", function (e) {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    ctx.beginPath();
    ctx.arc(last.x, last.y, 1.3, 0, 2 * Math.PI);
    ctx.fillStyle = "#111";
    ctx.fill();
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!last) return;
    e.preventDefault();
    var p = at(e);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    drawn += Math.abs(p.x - last.x) + Math.abs(p.y - last.y);
    last = p;
    if (drawn > 20) form.classList.add("signed");
  });
  function lift() { last = null; }
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  document.getElementById("clear").addEventListener("click", paper);
  form.addEventListener("submit", function (e) {
    if (drawn <= 20) {
      field.value = "";
      if (form.dataset.optional) return; // a signature the page may go without
      e.preventDefault();
      document.getElementById("pad-hint").classList.add("error");
      canvas.focus();
      return;
    }
    field.value = canvas.toDataURL("image/png");
  });
  document.getElementById("nojs").hidden = true;
  paper();
})();
