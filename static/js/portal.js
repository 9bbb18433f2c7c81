// Small progressive enhancements only; every page works without JavaScript.
// The Content-Security-Policy refuses inline scripts, handlers and style attributes: behaviour lives here,
// driven by data- attributes.
(function () {
  "use strict";
  // Confirm buttons that change or delete records: <button data-confirm="...">
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  // A bar's width from data: <span data-width-percent="42"></span> (instead of style="width: 42%").
  document.querySelectorAll("[data-width-percent]").forEach(function (bar) {
    var pct = parseFloat(bar.getAttribute("data-width-percent"));
    if (!isNaN(pct)) { bar.style.width = Math.max(0, Math.min(100, pct)) + "%"; }
  });
  // Copy a value: <button data-copy="value" data-copied="Copied" hidden> (shown only where it can work).
  if (navigator.clipboard) {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
          button.textContent = button.getAttribute("data-copied") || button.textContent;
        });
      });
    });
  }
  // Print this page: <button data-print-page hidden>.
  document.querySelectorAll("[data-print-page]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
