// Matching progress (services/pairing/match_progress.html): poll the run's status until it finishes.
// Moved out of the template for the Content-Security-Policy.
(function () {
  var box = document.querySelector(".match-running");
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector("progress"), pct = box.querySelector("[data-progress]"), stage = box.querySelector("[data-stage]");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        bar.value = s.progress; pct.textContent = s.progress + "%"; stage.textContent = s.stage;
        if (s.finished) { window.location.replace(s.url); } else { setTimeout(poll, 1500); }
      })
      .catch(function () { setTimeout(function () { window.location.reload(); }, 3000); });
  }
  setTimeout(poll, 1000);
})();
