// Overview charts: load the bucketed history and draw it with Chart.js (vendored, no CDN).
(function () {
  "use strict";
  const section = document.querySelector("[data-history]");
  if (!section || typeof Chart === "undefined") return;

  const time = (iso) => iso.slice(11, 16);
  // Savings are often fractions of a cent, and can be negative: keep two significant digits and the sign.
  const usd = (v) => (v < 0 ? "-$" : "$") + (v === 0 ? "0" : Math.abs(v).toPrecision(2));
  const day = (iso) => iso.slice(5, 10) + " " + iso.slice(11, 16);

  function draw(id, labels, datasets, yOptions) {
    const canvas = document.getElementById(id);
    const chart = Chart.getChart(canvas);
    if (chart) chart.destroy();
    new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, spanGaps: true,
        interaction: { mode: "index", intersect: false },
        scales: { y: Object.assign({ beginAtZero: true }, yOptions || {}) },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function series(label, data, color, extra) {
    return Object.assign({ label: label, data: data, borderColor: color, backgroundColor: color + "33",
                           pointRadius: 2, tension: 0.25 }, extra || {});
  }

  async function load() {
    const response = await fetch(section.dataset.history, { credentials: "same-origin" });
    if (!response.ok) { section.dataset.state = "error"; return; }
    const d = await response.json();
    const longWindow = d.labels.length > 1 && (Date.parse(d.labels[d.labels.length - 1]) - Date.parse(d.labels[0])) > 86400000;
    const labels = d.labels.map(longWindow ? day : time);
    const pct = (xs) => xs.map((x) => (x === null ? null : Math.round(x * 1000) / 10));
    draw("chart-hit-rate", labels, [
      series("semantic hit rate %", pct(d.semantic_hit_rate), "#2f5bd3"),
      series("prompt tokens from provider cache %", pct(d.prefix_cached_fraction), "#1e7d4f"),
    ], { max: 100 });
    draw("chart-tokens", labels, [
      series("tokens saved", d.tokens_saved, "#1e7d4f", { fill: true }),
      series("tokens billed", d.tokens_billed, "#8a6d1d"),
    ]);
    draw("chart-usd", labels, [
      series("net saved (USD)", d.saved_usd, "#1e7d4f", { fill: true }),
      series("billed (USD)", d.cost_usd, "#b3261e"),
    ], { beginAtZero: false, ticks: { callback: usd } });
    section.dataset.state = "ready";
    section.dataset.points = String(d.requests.reduce((a, b) => a + b, 0));
  }

  load();
  setInterval(load, 30000);
})();
