/* The sign-in kiosk: fetch the next code when the 30-second window turns, without reloading the page.
   Without JavaScript the page reloads itself (a meta refresh inside <noscript>). */
(function () {
  "use strict";
  var box = document.getElementById("kiosk");
  if (!box || !window.fetch) { return; }
  var left = parseInt(box.getAttribute("data-seconds"), 10) || 30;
  var seconds = document.getElementById("kiosk-seconds");
  function set(id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } }
  function refresh() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        document.getElementById("kiosk-qr").innerHTML = data.svg;
        set("kiosk-digits", data.digits.slice(0, 3) + " " + data.digits.slice(3));
        set("kiosk-in", data.signed_in);
        set("kiosk-out", data.signed_out);
        left = data.seconds_left;
      })
      .catch(function () { window.location.reload(); });
  }
  window.setInterval(function () {
    left -= 1;
    if (left <= 0) { left = 30; refresh(); }
    if (seconds) { seconds.textContent = left; }
  }, 1000);
})();
