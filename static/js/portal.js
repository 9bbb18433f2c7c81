// Small progressive enhancements only; every page works without JavaScript.
(function () {
  "use strict";
  // Confirm buttons that change or delete records: <button data-confirm="...">
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
