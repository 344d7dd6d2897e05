/* The weekly report's charts (Chart.js from our own static folder), drawn from the page's data attributes.
   No inline script: the CSP allows scripts from this site only. */
(function () {
  "use strict";
  var block = document.getElementById("report-data");
  if (!block || typeof Chart === "undefined") { return; }
  var data = JSON.parse(block.dataset.report);
  var report = data.report, m = report.metrics, prev = report.previous;
  var labels = JSON.parse(block.dataset.labels);
  var outcomeColors = ["#2e7d32", "#0b57d0", "#c62828", "#9e9e9e", "#f0a202"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  var outcomes = {};
  labels.outcomes.forEach(function (pair) { outcomes[pair[0]] = pair[1]; });
  draw("chart-outcomes", {
    type: "bar",
    data: {
      labels: data.outcomes_by_precinct.map(function (p) { return p.name; }),
      datasets: labels.outcomes.map(function (pair, i) {
        return { label: pair[1], backgroundColor: outcomeColors[i],
                 data: data.outcomes_by_precinct.map(function (p) { return p.outcomes[pair[0]]; }) };
      })
    },
    options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } }
  });

  // a long category name (English fraud types) is cut with an ellipsis instead of off the left edge of a phone
  function shortLabel(value) {
    var label = String(this.getLabelForValue(value));
    return label.length > 18 ? label.slice(0, 17) + "…" : label;
  }

  var tierKeys = labels.tiers.map(function (pair) { return pair[0]; });
  draw("chart-first-reach", {
    type: "bar",
    data: {
      labels: labels.tiers.map(function (pair) { return pair[1]; }),
      datasets: [
        { label: labels.this_week, backgroundColor: "#12325f",
          data: tierKeys.map(function (k) { return m.median_minutes_to_first_reach[k]; }) },
        { label: labels.last_week, backgroundColor: "#a9b2c0",
          data: tierKeys.map(function (k) { return prev.median_minutes_to_first_reach[k]; }) }
      ]
    },
    options: { scales: { y: { beginAtZero: true } } }
  });

  var types = m.by_fraud_type.filter(function (r) { return r.warnings || r.dissuaded || r.defrauded; });
  draw("chart-fraud-types", {
    type: "bar",
    data: {
      labels: types.map(function (r) { return labels.fraud_types[r.fraud_type]; }),
      datasets: [
        { label: labels.warnings, backgroundColor: "#a9b2c0", data: types.map(function (r) { return r.warnings; }) },
        { label: outcomes.dissuaded, backgroundColor: "#2e7d32", data: types.map(function (r) { return r.dissuaded; }) },
        { label: outcomes.defrauded, backgroundColor: "#c62828", data: types.map(function (r) { return r.defrauded; }) }
      ]
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
                                         y: { ticks: { callback: shortLabel } } } }
  });

  var printButton = document.querySelector(".print-button");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
  // Charts redraw at the paper's width before printing.
  window.addEventListener("beforeprint", function () {
    Object.values(Chart.instances).forEach(function (c) { c.resize(); });
  });
}());
