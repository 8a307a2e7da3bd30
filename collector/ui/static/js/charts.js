// Time-series charts over the vendored uPlot (static/vendor/uplot), shared by the pages
// that chart numbers over time (monitors, the usage overview).
//
// Pages load /static/vendor/uplot/uPlot.min.css, /static/vendor/uplot/uPlot.iife.min.js
// and this file (all `defer`, after app.js). Two ways to draw:
//
//   1. Declaratively: <div class="chart" data-chart="ID"></div> plus a data block
//      <template class="json-data" id="ID">{{ spec | json_for_script }}</template>; every
//      such element is drawn on page load and after every htmx swap.
//   2. From page code: Spyglass.charts.timeSeries(container, spec, options).
//
// spec = {
//   series: [{label: "latency p50", unit: "ms", color: "#2f6fed", bars: false}, ...],
//   data:   [[x0, x1, ...],            // unix seconds, ascending
//            [y0, y1, ...], ...],      // one array per series; null leaves a gap
//   options: {...}                     // optional, same keys as the options argument
// }
// options = {height: 220, title: "", yLabel: "", bars: false, digits: 3, yMin: null,
//            yMax: null, spanGaps: false}
//
// Numbers show on hover in the legend under the chart (uPlot's cursor and live legend);
// the width follows the container. Labels reach the DOM as text only (uPlot sets them
// with textContent), so span-derived series names are safe. uPlot styles elements only
// through element.style, which the Content-Security-Policy allows.
"use strict";

(function () {
  const palette = ["#2f6fed", "#e8710a", "#2e7d32", "#c62828", "#7b1fa2", "#00838f", "#6d4c41", "#5f6368"];
  const charts = new WeakMap();

  function formatter(digits, unit) {
    const suffix = unit ? " " + unit : "";
    return (u, v) => {
      if (v === null || v === undefined || Number.isNaN(v)) return "–";
      const text = Number.isInteger(v) ? v.toLocaleString() : Number(v).toFixed(digits);
      return text + suffix;
    };
  }

  function widthOf(container) {
    return Math.max(200, Math.floor(container.getBoundingClientRect().width || container.clientWidth || 600));
  }

  // the uPlot options for a spec; x is time in seconds, shown in the browser's time zone
  function optionsFor(container, spec, options) {
    const digits = options.digits === undefined ? 3 : options.digits;
    const bars = options.bars && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : null;
    const series = [{ label: "time", value: "{YYYY}-{MM}-{DD} {HH}:{mm}" }];
    (spec.series || []).forEach((s, i) => {
      const color = s.color || palette[i % palette.length];
      const asBars = s.bars !== undefined ? s.bars && bars : bars;
      series.push({
        label: String(s.label === undefined ? "series " + (i + 1) : s.label),
        stroke: color,
        width: asBars ? 1 : 2,
        fill: asBars ? color + "99" : undefined,
        paths: asBars || undefined,
        points: { show: !asBars, size: 5 },
        spanGaps: !!options.spanGaps,
        value: formatter(digits, s.unit),
        scale: s.scale || "y",
      });
    });
    const yRange = (u, min, max) => {
      const lo = options.yMin !== undefined && options.yMin !== null ? options.yMin : min;
      const hi = options.yMax !== undefined && options.yMax !== null ? options.yMax : max;
      if (lo === null || hi === null) return [0, 1];
      if (lo === hi) return [lo - 1, hi + 1];
      const pad = (hi - lo) * 0.05;
      return [options.yMin !== undefined && options.yMin !== null ? lo : lo - pad,
              options.yMax !== undefined && options.yMax !== null ? hi : hi + pad];
    };
    return {
      title: options.title || undefined,
      width: widthOf(container),
      height: options.height || 220,
      series,
      scales: { x: { time: true }, y: { range: yRange } },
      axes: [
        {},
        { label: options.yLabel || undefined, size: 56 },
      ],
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      legend: { live: true },
    };
  }

  function timeSeries(container, spec, options) {
    const opts = Object.assign({}, spec.options || {}, options || {});
    const previous = charts.get(container);
    if (previous) {
      previous.observer.disconnect();
      previous.plot.destroy();
    }
    container.classList.add("chart-ready");
    const data = (spec.data || []).map((column) => column.slice());
    const plot = new uPlot(optionsFor(container, spec, opts), data, container);
    let lastWidth = widthOf(container);
    const observer = new ResizeObserver(() => {
      const width = widthOf(container);
      if (width !== lastWidth) {
        lastWidth = width;
        plot.setSize({ width, height: opts.height || 220 });
      }
    });
    observer.observe(container);
    charts.set(container, { plot, observer });
    return plot;
  }

  // draw every [data-chart] element under root whose data block is found
  function mount(root) {
    (root || document).querySelectorAll("[data-chart]").forEach((el) => {
      if (el.dataset.chartDrawn === el.dataset.chart) return;
      const spec = window.Spyglass.data(el.dataset.chart);
      if (!spec) return;
      el.dataset.chartDrawn = el.dataset.chart;
      timeSeries(el, spec, {});
    });
  }

  window.Spyglass = window.Spyglass || {};
  window.Spyglass.charts = { timeSeries, mount, palette };
  if (window.Spyglass.onContent) {
    window.Spyglass.onContent(mount);
  } else {
    document.addEventListener("DOMContentLoaded", () => mount(document));
  }
})();
