// Holds per reason per day as stacked bars, drawn as inline SVG (no chart library). Input: GET
// /api/v1/stats/holds's answer, {days: ["2026-11-01", ...], reasons: {bounce_risk: [0, 2, ...]}}.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
// One colour per reason code, the same on every draw; codes not listed take the spare ones.
const REASON_COLOURS = {
  bounce_risk: '#d9534f', spamtrap: '#8e44ad', do_not_mail: '#e67e22', sender_paused: '#2c3e50',
  secondary_email: '#2980b9', dead_email: '#7f8c8d', unknown: '#f1c40f',
};
const SPARE_COLOURS = ['#16a085', '#c0392b', '#27ae60', '#34495e', '#d35400'];

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function reasonColour(reason, i) {
  return REASON_COLOURS[reason] || SPARE_COLOURS[i % SPARE_COLOURS.length];
}

// A round axis top at or above `n` whose half is a whole number too: 2, 4, 10, 20, 50, 100...
function niceMax(n) {
  if (n <= 2) return 2;
  if (n <= 4) return 4;
  const p = Math.pow(10, Math.floor(Math.log10(n)));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function drawHoldsChart(box, legend, stats) {
  const days = stats.days || [];
  const reasons = Object.keys(stats.reasons || {}).sort();
  const totals = days.map((_, d) => reasons.reduce((sum, r) => sum + (stats.reasons[r][d] || 0), 0));
  const all = totals.reduce((a, b) => a + b, 0);
  if (!all) {
    fill(box, el('p', {class: 'empty'}, `No holds in the last ${days.length} days.`));
    fill(legend);
    return;
  }
  const W = 900, H = 180, left = 36, bottom = 22, top = 8;
  const plotH = H - bottom - top, step = (W - left) / days.length, bar = Math.max(2, step * 0.7);
  const max = niceMax(Math.max(...totals));
  const y = (v) => top + plotH - (v / max) * plotH;
  const chart = svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Holds per reason per day'});
  for (const v of [0, max / 2, max]) {  // grid lines and their counts
    chart.append(svg('line', {x1: left, x2: W, y1: y(v), y2: y(v), class: 'grid-line'}));
    chart.append(svg('text', {x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis'}, String(v)));
  }
  const labelEvery = Math.ceil(days.length / 10);
  days.forEach((day, d) => {
    const x = left + d * step + (step - bar) / 2;
    let base = 0;
    reasons.forEach((r, i) => {
      const n = stats.reasons[r][d] || 0;
      if (!n) return;
      chart.append(svg('rect', {x, y: y(base + n), width: bar, height: y(base) - y(base + n),
                                fill: reasonColour(r, i), class: 'bar', 'data-reason': r, 'data-day': day},
                       svg('title', {}, `${day} ${r}: ${n}`)));
      base += n;
    });
    if (d % labelEvery === 0 || d === days.length - 1)
      chart.append(svg('text', {x: x + bar / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis'}, day.slice(5)));
  });
  fill(box, chart);
  fill(legend, reasons.map((r, i) => {
    const swatch = el('span', {class: 'swatch'});
    swatch.style.background = reasonColour(r, i);  // CSSOM, which the policy allows (a style attribute it would not)
    const n = stats.reasons[r].reduce((a, b) => a + b, 0);
    return el('li', {}, swatch, `${r} `, el('strong', {}, String(n)));
  }));
}
