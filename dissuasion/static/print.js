// The 打印 button of the 台账 and the 考评 table: shown only where scripts run, prints the page (print.css).
(function () {
  var button = document.querySelector(".print-button");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
})();
