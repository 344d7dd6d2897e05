/* The boards' action bar: "本页全选" ticks every case on the page; the count of what an action will act on. With
   nothing ticked the bar is "idle": on a phone it then stays in its place under the list, its actions folded, instead
   of covering a third of the screen (app.css). */
(function () {
  "use strict";
  var bar = document.querySelector("[data-bulk]");
  if (!bar) { return; }
  var picks = Array.prototype.slice.call(document.querySelectorAll("input.pick[form='" + bar.id + "']"));
  var page = bar.querySelector("[data-select-page]");
  var all = bar.querySelector("[data-all-matching]");
  var count = bar.querySelector("[data-count]");
  var words = { picked: bar.dataset.picked || "已选 %n 件" };

  function update() {
    var n = picks.filter(function (p) { return p.checked; }).length;
    page.checked = picks.length > 0 && n === picks.length;
    page.indeterminate = n > 0 && n < picks.length;
    count.textContent = all.checked ? "" : words.picked.replace("%n", n);
    bar.classList.toggle("idle", n === 0 && !all.checked);
  }
  page.addEventListener("change", function () {
    picks.forEach(function (p) { p.checked = page.checked; });
    update();
  });
  picks.forEach(function (p) { p.addEventListener("change", update); });
  all.addEventListener("change", function () {
    if (all.checked) { picks.forEach(function (p) { p.checked = true; }); }
    update();
  });
  update();
}());
