// The activity form shows only the counts the chosen type records (ActivityKind.counts); a count already typed
// stays shown, so the server's message about it can be read. Without JS every count is shown.
(function () {
  "use strict";
  var form = document.getElementById("activity-form");
  if (!form) { return; }
  var kind = form.querySelector("select[name=kind]");
  function update() {
    var option = kind.options[kind.selectedIndex];
    var wanted = option && option.dataset.counts ? option.dataset.counts.split(" ") : null;
    form.querySelectorAll("[data-count]").forEach(function (el) {
      var input = el.querySelector("input");
      el.hidden = wanted !== null && wanted.indexOf(el.dataset.count) < 0 && !input.value;
    });
  }
  kind.addEventListener("change", update);
  update();
  var invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) { invalid.focus(); }
}());
