// A small line chart in inline SVG, no library: one figure over time, with its scale,
// the time it starts and "now", and a text summary for screen readers.
import { el } from "./core.js";

const NS = "http://www.w3.org/2000/svg";
const HEIGHT = 96;
const PAD = { left: 34, right: 10, top: 8, bottom: 20 };

function svg(tag, attrs = {}, text = "") {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function niceMax(peak) {
  if (peak <= 1) return 1;
  const step = 10 ** Math.floor(Math.log10(peak));
  return Math.ceil(peak / step) * step;
}

const clock = (at) => new Date(at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function span(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function drawChart(title, samples, key, width, format) {
  const points = samples.filter((s) => typeof s[key] === "number");
  const values = points.map((s) => s[key]);
  const now = values.length ? format(values[values.length - 1]) : "–";
  const figure = el("figure", { class: "chart" },
    el("figcaption", {}, el("span", { text: title }), el("strong", { text: now })));
  const start = samples.length ? samples[0].at : 0;
  const end = samples.length ? samples[samples.length - 1].at : 0;
  const peak = Math.max(0, ...values);
  const summary = points.length
    ? `${title} over the last ${span(end - start)}: now ${now}, highest ${format(peak)}.`
    : `${title}: no data yet.`;
  const chart = svg("svg", { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: "img", "aria-label": summary });
  figure.append(chart);
  const inner = { w: width - PAD.left - PAD.right, h: HEIGHT - PAD.top - PAD.bottom };
  const top = niceMax(peak);
  const x = (at) => PAD.left + (end > start ? ((at - start) / (end - start)) * inner.w : inner.w);
  const y = (v) => PAD.top + (1 - v / top) * inner.h;
  for (const v of [0, top]) {
    chart.append(svg("line", { x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v), class: "grid" }),
      svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  if (samples.length) {
    chart.append(svg("text", { x: PAD.left, y: HEIGHT - 4 }, clock(start)),
      svg("text", { x: width - PAD.right, y: HEIGHT - 4, "text-anchor": "end" }, "now"));
  }
  if (points.length === 1) {
    chart.append(svg("circle", { cx: x(points[0].at), cy: y(values[0]), r: 3, class: "dot" }));
  } else if (points.length > 1) {
    const line = points.map((s) => `${x(s.at).toFixed(1)},${y(s[key]).toFixed(1)}`).join(" ");
    const base = y(0).toFixed(1);
    chart.append(svg("polygon", { points: `${x(points[0].at).toFixed(1)},${base} ${line} ${x(points[points.length - 1].at).toFixed(1)},${base}`, class: "area" }),
      svg("polyline", { points: line, class: "line" }));
  } else {
    chart.append(svg("text", { x: PAD.left + inner.w / 2, y: PAD.top + inner.h / 2 + 4, "text-anchor": "middle", class: "empty" }, "no data yet"));
  }
  return figure;
}
