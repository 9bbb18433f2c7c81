/* Sign-in with a location check: fill in the phone's position before the form is sent. */
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form || !navigator.geolocation) { return; }
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    function send() {
      sent = true;
      if (submitter) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
        form.appendChild(hidden);
      }
      form.submit();
    }
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=latitude]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = pos.coords.longitude.toFixed(6);
      send();
    }, send, { enableHighAccuracy: true, timeout: 10000 });
  });
})();
