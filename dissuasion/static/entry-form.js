// 录入预警: once a phone or ID number is typed (the field is left), the form asks the server for an open case this
// person already has and shows it (masked, in the user's reach). Without JS the 查找此人已有任务 button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form.entry-form");
  var slot = document.getElementById("found-slot");
  if (!form || !slot || !window.fetch) { return; }
  var last = "";
  function look() {
    var data = new FormData(form);
    var phone = (data.get("phone") || "").trim(), idNumber = (data.get("id_number") || "").trim();
    var key = [phone, idNumber, (data.get("name") || "").trim()].join("|");
    if ((!phone && !idNumber) || key === last) { return; }
    last = key;
    data.set("action", "check");
    fetch(form.dataset.lookup, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { slot.innerHTML = html; } })
      .catch(function () { last = ""; });  // the 查找 button still works
  }
  // A second tap on 保存预警 while the first is on its way would enter the warning twice.
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.value === "save") { setTimeout(function () { button.disabled = true; }, 0); }
  });
  ["f-phone", "f-id_number", "f-name"].forEach(function (id) {
    var input = document.getElementById(id);
    if (input) { input.addEventListener("change", look); }
  });
}());
