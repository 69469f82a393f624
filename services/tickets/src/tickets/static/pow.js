/* The web form's anti-spam check (/r/new): find a nonce such that SHA-256(challenge + nonce) starts
   with the number of zero bits the signed challenge names (its third dot-separated part), put it in
   the form, and send the form once it is found. No foreign service, no library: SHA-256 below,
   the challenge's full 64-byte blocks hashed once (the midstate), one block per try after that. */
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form || !form.elements.challenge) return;
  var status = document.getElementById("check-status");
  var button = form.querySelector("button[type=submit]");
  var challenge = form.elements.challenge.value;
  var bits = parseInt(challenge.split(".")[2], 10);
  if (!(bits >= 1 && bits <= 32)) return;

  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var W = new Int32Array(64);

  function compress(H) {
    var t, a, b, c, d, e, f, g, h, x, y, t1, t2;
    for (t = 16; t < 64; t++) {
      x = W[t - 15];
      y = W[t - 2];
      W[t] = (W[t - 16] + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        W[t - 7] + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    }
    a = H[0]; b = H[1]; c = H[2]; d = H[3]; e = H[4]; f = H[5]; g = H[6]; h = H[7];
    for (t = 0; t < 64; t++) {
      t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
      t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
    H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
  }

  function load(bytes, from) {  // one 64-byte block into W[0..15], big-endian
    for (var i = 0; i < 16; i++) {
      var j = from + 4 * i;
      W[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
  }

  var prefix = [];
  for (var i = 0; i < challenge.length; i++) prefix.push(challenge.charCodeAt(i) & 0xff);
  var full = prefix.length - (prefix.length % 64);
  var mid = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  ]);
  for (var at = 0; at < full; at += 64) {
    load(prefix, at);
    compress(mid);
  }
  var rest = prefix.slice(full);
  var tail = new Uint8Array(192);
  var H = new Int32Array(8);
  var shift = 32 - bits;

  for (i = 0; i < rest.length; i++) tail[i] = rest[i];  // the challenge's last bytes never change

  function tries(nonce) {  // true when this nonce's hash has enough leading zero bits
    var digits = String(nonce), n = rest.length, i;
    for (i = 0; i < digits.length; i++) tail[n + i] = digits.charCodeAt(i);
    n += digits.length;
    var total = n + 9 <= 64 ? 64 : 128;
    tail[n] = 0x80;
    for (i = n + 1; i < total - 4; i++) tail[i] = 0;
    var bitLength = (full + n) * 8;
    tail[total - 4] = (bitLength >>> 24) & 0xff;
    tail[total - 3] = (bitLength >>> 16) & 0xff;
    tail[total - 2] = (bitLength >>> 8) & 0xff;
    tail[total - 1] = bitLength & 0xff;
    H.set(mid);
    for (i = 0; i < total; i += 64) {
      load(tail, i);
      compress(H);
    }
    return (H[0] >>> shift) === 0;
  }

  var solved = false, waiting = false, nonce = 0, started = Date.now();
  form.classList.add("checking");
  status.textContent = "正在进行安全验证… (running the anti-spam check)";

  function step() {
    var until = Date.now() + 40;  // then let the page breathe
    while (Date.now() < until) {
      for (var k = 0; k < 2000; k++) {
        if (tries(nonce)) {
          done();
          return;
        }
        nonce++;
      }
    }
    setTimeout(step, 0);
  }

  function done() {
    solved = true;
    form.elements.nonce.value = String(nonce);
    form.dataset.powMs = String(Date.now() - started);
    form.dataset.powTries = String(nonce + 1);
    form.classList.remove("checking");
    status.textContent = "✓ 安全验证已完成 (check done)";
    if (waiting) form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (solved) return;
    event.preventDefault();
    waiting = true;
    button.disabled = true;
    status.textContent = "正在完成安全验证，完成后自动提交… (finishing the check, then sending)";
  });
  setTimeout(step, 0);
})();
