// The contact form shows only the fields the choices so far need. Without JS every field is shown,
// and the server checks everything either way (contacts/validation.py).
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) { return; }
  function picked(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }
  function show(selector, visible) {
    form.querySelectorAll(selector).forEach(function (el) { el.hidden = !visible; });
  }
  function update() {
    var reached = picked("reached"), outcome = picked("outcome");
    show(".when-relative", reached === "relative");
    show(".when-none", reached === "none");
    show(".when-dissuaded", outcome === "dissuaded");
    show(".when-defrauded", outcome === "defrauded");
  }
  form.addEventListener("change", update);
  update();
}());
