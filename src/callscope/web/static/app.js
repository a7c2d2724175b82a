// callscope dashboard: draws the charts the server described and sorts tables in place.
// Chart.js comes from the npm registry at install time and is served by the app (/vendor/chart.js).
"use strict";

(function () {
  const palette = ["#1d4ed8", "#b42318", "#17703b", "#d49b00", "#7c3aed", "#0e7490", "#be185d", "#4b5563"];
  const locale = document.documentElement.dataset.locale || "en-GB";

  function fmt(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "percent") return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(value);
    if (unit === "seconds") {
      const s = Math.round(value);
      return s < 60 ? s + " s" : Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    }
    return new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value);
  }

  function draw(canvas) {
    if (typeof Chart === "undefined") return;
    const spec = JSON.parse(document.getElementById(canvas.dataset.spec).textContent);
    const unit = spec.unit || "number";
    const datasets = spec.datasets.map(function (d, i) {
      const colour = d.color || palette[i % palette.length];
      return Object.assign({
        backgroundColor: spec.type === "line" ? colour + "22" : (d.colors || colour),
        borderColor: spec.type === "doughnut" ? "#fff" : colour,
        borderWidth: spec.type === "line" ? 2 : 1,
        fill: spec.type === "line" && i === 0,
        tension: 0.25,
        pointRadius: spec.labels.length > 40 ? 0 : 3,
      }, d);
    });
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        animation: false,
        plugins: {
          legend: { display: datasets.length > 1 || spec.type === "doughnut", position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) {
            const v = spec.horizontal ? ctx.parsed.x : (spec.type === "doughnut" ? ctx.parsed : ctx.parsed.y);
            return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + fmt(v, unit);
          } } },
        },
        scales: spec.type === "doughnut" ? {} : {
          x: { stacked: !!spec.stacked, grid: { display: false }, ticks: spec.horizontal ? { callback: function (v) { return fmt(v, unit); } } : {} },
          y: { stacked: !!spec.stacked, beginAtZero: true, ticks: spec.horizontal ? {} : { callback: function (v) { return fmt(v, unit); } } },
        },
      },
    });
  }

  function sortable(table) {
    const body = table.tBodies[0];
    table.querySelectorAll("th button.sort").forEach(function (button) {
      button.addEventListener("click", function () {
        const th = button.closest("th");
        const index = Array.prototype.indexOf.call(th.parentNode.children, th);
        const descending = th.getAttribute("aria-sort") !== "descending";
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        const rows = Array.from(body.rows).filter(function (r) { return !r.classList.contains("avg"); });
        const pinned = Array.from(body.rows).filter(function (r) { return r.classList.contains("avg"); });
        rows.sort(function (a, b) {
          const x = a.cells[index].dataset.v, y = b.cells[index].dataset.v;
          const nx = parseFloat(x), ny = parseFloat(y);
          const cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y), locale);
          return descending ? -cmp : cmp;
        });
        rows.concat(pinned).forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-spec]").forEach(draw);
    document.querySelectorAll("table.sortable").forEach(sortable);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
  });
})();
