// DOM helpers. Everything that reaches the page goes through these as text
// nodes or attributes: no HTML is ever parsed, so strings from segments
// (names, annotations, URLs, exception messages) can never become markup.

const SVG = 'http://www.w3.org/2000/svg';

function build(el, props, children) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// h creates an HTML element: h('a', {href: '/x', class: 'k'}, 'text', child).
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

// s creates an SVG element.
export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG, tag), props, children);
}

// replace swaps el's children for the given ones.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// tip shows the shared hover card next to the pointer; hide hides it.
const tipEl = () => document.getElementById('tip');

export function showTip(ev, ...children) {
  const t = tipEl();
  replace(t, ...children);
  t.hidden = false;
  moveTip(ev);
}

export function moveTip(ev) {
  const t = tipEl();
  if (t.hidden) return;
  const pad = 14;
  const w = t.offsetWidth, hgt = t.offsetHeight;
  let x = ev.clientX + pad, y = ev.clientY + pad;
  if (x + w > window.innerWidth - 4) x = Math.max(4, ev.clientX - w - pad);
  if (y + hgt > window.innerHeight - 4) y = Math.max(4, window.innerHeight - hgt - 4);
  t.style.left = x + 'px';
  t.style.top = y + 'px';
}

export function hideTip() {
  tipEl().hidden = true;
}

// kv renders label/value pairs as a definition grid, skipping empty values.
export function kv(pairs) {
  const dl = h('dl', {class: 'kv'});
  for (const [k, v] of pairs) {
    if (v == null || v === '') continue;
    dl.append(h('dt', null, k), h('dd', null, v));
  }
  return dl;
}

// paintedAt records on el when the frame showing what was just rendered is
// painted, in ms since the page's navigation started (data-painted-at; the
// browser tests read it).
export function paintedAt(el) {
  delete el.dataset.paintedAt;
  requestAnimationFrame(() => requestAnimationFrame(() => { el.dataset.paintedAt = String(Math.round(performance.now())); }));
}
