// Keeps the worklist countdowns ("还剩 25 分钟", "已超时 1 小时 5 分") live without reloading the page.
// The words come from the server (data-* on this script tag) so the English interface says them in English.
(function () {
  "use strict";
  var script = document.currentScript;
  var words = {
    left: script.dataset.left, over: script.dataset.over, minutes: script.dataset.minutes,
    hoursMinutes: script.dataset.hoursMinutes, hours: script.dataset.hours,
    daysHours: script.dataset.daysHours, days: script.dataset.days
  };

  function fill(template, values) {
    return template.replace(/\{(\w)\}/g, function (_, key) { return values[key]; });
  }

  function span(minutes) {
    if (minutes < 60) { return fill(words.minutes, {m: minutes}); }
    if (minutes < 1440) {
      var h = Math.floor(minutes / 60), m = minutes % 60;
      return m ? fill(words.hoursMinutes, {h: h, m: m}) : fill(words.hours, {h: h});
    }
    var d = Math.floor(minutes / 1440), rh = Math.floor((minutes % 1440) / 60);
    return rh ? fill(words.daysHours, {d: d, h: rh}) : fill(words.days, {d: d});
  }

  function tick() {
    var nowMs = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var seconds = (Date.parse(el.dataset.due) - nowMs) / 1000;
      var over = seconds <= 0;  // the first minute over reads 1, never 0 (as the server says it)
      el.textContent = over ? fill(words.over, {t: span(Math.max(1, Math.floor(-seconds / 60)))})
                            : fill(words.left, {t: span(Math.ceil(seconds / 60))});
      el.classList.toggle("overdue", over);
      var row = el.closest("li");
      if (row && over) { row.classList.add("is-overdue"); }
    });
  }

  tick();
  setInterval(tick, 30000);
})();
