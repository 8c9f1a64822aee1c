// Building the page from data without ever parsing it as HTML: every string goes in as a text node
// or an attribute value, so an address or a subject such as "<img onerror=...>" shows as written.
'use strict';

// el('td', {class: 'x', title: 't', onclick: f}, 'text', node, [more]) -> an element.
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(parent, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return parent;
}

// Empties `parent` and puts `children` in.
function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

const $ = (id) => document.getElementById(id);

// "2026-11-30 09:15" in the browser's time zone; the exact instant is in the cell's title.
function localTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function timeCell(iso) {
  return el('td', {title: iso || '', class: 'nowrap'}, localTime(iso));
}

// "12 s ago", "5 min ago", "3 h ago", "2 d ago".
function ago(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - new Date(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
