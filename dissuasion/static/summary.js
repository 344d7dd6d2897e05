// The summary page prints the text as edited (forms are hidden on paper): the text is copied into a plain block.
(function () {
  "use strict";
  var text = document.getElementById("summary-text"), out = document.getElementById("summary-print");
  var button = document.querySelector("#summary-form .print-button");
  if (!text || !out) { return; }
  function copy() { out.textContent = text.value; }
  window.addEventListener("beforeprint", copy);
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(); window.print(); });
  }
}());
