// Matching run form (services/pairing/match_run.html): show progress and block a second press.
// Moved out of the template for the Content-Security-Policy.
document.querySelectorAll("form.match-form").forEach(function (form) {
  form.addEventListener("submit", function () {
    var box = form.querySelector(".match-progress");
    box.querySelector("span").textContent = form.dataset.running;
    box.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
  });
});
