// Charts of the supervision dashboards, drawn with the vendored Chart.js (static/vendor/chartjs/).
// Data comes from the page (json_script "supervision-charts"); every chart has a table with the same
// figures next to it, so without JavaScript nothing is lost: the charts stay hidden.
// Font sizes and colours come from the page's CSS, so large-text mode (html.elder-mode) gets large labels.
(function () {
  "use strict";
  var source = document.getElementById("supervision-charts");
  if (!source || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var root = getComputedStyle(document.documentElement);
  var css = function (name, fallback) { return (root.getPropertyValue(name) || "").trim() || fallback; };
  var baseSize = parseFloat(root.fontSize) || 17;
  var colours = {
    accent: css("--accent", "#0b6e4f"),
    brand: css("--brand", "#b3261e"),
    error: css("--error", "#a4161a"),
    muted: "#9a968c",
  };
  var Chart = window.Chart;
  Chart.defaults.font.family = css("--font", "sans-serif");
  Chart.defaults.font.size = Math.round(baseSize * 0.85);
  Chart.defaults.color = css("--fg", "#1d1d1b");
  Chart.defaults.animation = false; // nothing moves; prints exactly what is shown
  Chart.defaults.devicePixelRatio = Math.max(window.devicePixelRatio || 1, 2); // sharp on paper too

  var charts = [];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = data[canvas.getAttribute("data-chart")];
    if (!spec || !spec.labels || !spec.labels.length) return;
    var wrap = canvas.closest("[data-chart-wrap]");
    wrap.hidden = false; // shown before measuring: a hidden box has no width
    var horizontal = spec.horizontal || spec.labels.length > 8 || (canvas.parentNode.clientWidth < 500 && spec.labels.length > 3);
    var box = canvas.parentNode;
    if (horizontal) {
      // one band per label, tall enough for the label text at the page's font size
      var perLabel = baseSize * 1.25 * spec.datasets.length + baseSize;
      box.style.height = Math.max(baseSize * 12, spec.labels.length * perLabel + baseSize * 4) + "px";
    }
    var valueAxis = { beginAtZero: true, stacked: !!spec.stacked, ticks: { precision: 0 } };
    var labelAxis = { stacked: !!spec.stacked, ticks: { autoSkip: false } };
    charts.push(new Chart(canvas, {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d) {
          return { label: d.label, data: d.data, backgroundColor: colours[d.color] || colours.accent, borderWidth: 0 };
        }),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: baseSize, padding: baseSize * 0.8 } } },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
      },
    }));
  });

  // Printing: redraw at the paper's width before, and back after.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (c) { c.resize(); }); });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
