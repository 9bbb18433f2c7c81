// Public site enhancements. Everything works without them: the buttons stay hidden without JavaScript.
(function () {
  "use strict";
  // 朗读: read the page's text aloud with the browser's speech synthesis, in Chinese.
  var synth = window.speechSynthesis;
  if (synth && typeof window.SpeechSynthesisUtterance === "function") {
    document.querySelectorAll("[data-read-aloud]").forEach(function (button) {
      var target = document.querySelector(button.getAttribute("data-read-aloud"));
      if (!target) { return; }
      var start = button.getAttribute("data-label-start");
      var stop = button.getAttribute("data-label-stop");
      var setLabel = function (speaking) {
        button.textContent = speaking ? stop : start;
        button.setAttribute("aria-pressed", speaking ? "true" : "false");
      };
      button.hidden = false;
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        if (synth.speaking) { synth.cancel(); setLabel(false); return; }
        var clone = target.cloneNode(true);
        clone.querySelectorAll("button, .page-tools, script").forEach(function (el) { el.remove(); });
        var text = clone.textContent.replace(/\s+/g, " ").trim();
        // Long texts are read in pieces: some engines stop after a few thousand characters.
        var pieces = text.match(/[^。！？；\n]{1,200}[。！？；]?/g) || [text];
        pieces.forEach(function (piece, index) {
          var utterance = new window.SpeechSynthesisUtterance(piece);
          utterance.lang = document.documentElement.lang === "en" ? "en-GB" : "zh-CN";
          utterance.rate = 0.9;
          if (index === pieces.length - 1) { utterance.onend = function () { setLabel(false); }; }
          synth.speak(utterance);
        });
        setLabel(true);
      });
    });
    window.addEventListener("pagehide", function () { synth.cancel(); });
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
