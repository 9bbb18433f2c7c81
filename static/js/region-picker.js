// County → township → village selects (portal/widgets.py). Each choice loads the next level's options.
(function () {
  "use strict";
  function fill(select, items) {
    var first = select.options[0];
    select.innerHTML = "";
    select.appendChild(first);
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.code;
      option.textContent = item.name;
      select.appendChild(option);
    });
  }
  document.querySelectorAll("[data-region-picker]").forEach(function (picker) {
    var base = picker.getAttribute("data-children-url");
    var order = ["county", "township", "village"];
    picker.addEventListener("change", function (event) {
      var level = event.target.getAttribute("data-level");
      var next = order[order.indexOf(level) + 1];
      if (!next) return;
      var nextSelect = picker.querySelector('[data-level="' + next + '"]');
      if (!nextSelect) return;
      order.slice(order.indexOf(next)).forEach(function (lv) {
        var s = picker.querySelector('[data-level="' + lv + '"]');
        if (s) fill(s, []);
      });
      if (!event.target.value) return;
      fetch(base + event.target.value + "/children/", { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { children: [] }; })
        .then(function (data) { fill(nextSelect, data.children); nextSelect.focus(); });
    });
  });
})();
