// The console's shell: routing (every view's state lives in the URL), the
// time range, live refresh, and the views.
import {h, replace, hideTip} from './dom.js';
import * as mapView from './map.js';
import * as tracesView from './traces.js';
import * as traceView from './trace.js';

export const RANGES = [
  ['5m', 'Last 5 minutes', 300],
  ['15m', 'Last 15 minutes', 900],
  ['1h', 'Last hour', 3600],
  ['6h', 'Last 6 hours', 6 * 3600],
  ['24h', 'Last 24 hours', 24 * 3600],
];
const RANGE_KEYS = ['range', 'from', 'to', 'live'];
const LIVE_EVERY_MS = 5000;

export function params() {
  return new URLSearchParams(location.search);
}

// setParams changes the current URL's query (null or '' removes a key).
export function setParams(updates, {push = false} = {}) {
  const p = params();
  for (const [k, v] of Object.entries(updates)) {
    if (v == null || v === '') p.delete(k);
    else p.set(k, String(v));
  }
  const q = p.toString();
  history[push ? 'pushState' : 'replaceState'](null, '', location.pathname + (q ? '?' + q : ''));
}

// href builds a link to path with the given query, keeping the time range.
export function href(path, query = {}) {
  const p = new URLSearchParams();
  const cur = params();
  for (const k of RANGE_KEYS) if (cur.has(k)) p.set(k, cur.get(k));
  for (const [k, v] of Object.entries(query)) if (v != null && v !== '') p.set(k, String(v));
  const q = p.toString();
  return path + (q ? '?' + q : '');
}

export function navigate(url) {
  history.pushState(null, '', url);
  render();
}

// timeRange is the window the URL asks for, in epoch seconds.
export function timeRange() {
  const p = params();
  const from = Number(p.get('from')), to = Number(p.get('to'));
  if (p.has('from') && p.has('to') && from < to) return {start: from, end: to, custom: true};
  const key = p.get('range') || '1h';
  const r = RANGES.find(([k]) => k === key) || RANGES[2];
  const end = Date.now() / 1000;
  return {start: end - r[2], end, key: r[0]};
}

let current = null; // {controller, view: {refresh, cleanup}}
let liveTimer = null;

function route() {
  const path = location.pathname;
  if (path === '/' || path === '/map') return {name: 'map', view: mapView};
  if (path === '/traces') return {name: 'traces', view: tracesView};
  const m = path.match(/^\/trace\/([^/]+)$/);
  if (m) return {name: 'trace', view: traceView, id: decodeURIComponent(m[1])};
  return null;
}

export function render() {
  if (current) {
    current.controller.abort();
    current.view?.cleanup?.();
  }
  hideTip();
  clearInterval(liveTimer);
  const main = document.getElementById('main');
  const r = route();
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('active', r != null && a.dataset.view === (r.name === 'trace' ? 'traces' : r.name));
    a.setAttribute('href', href(a.getAttribute('href').split('?')[0]));
  }
  renderRange(r);
  const controller = new AbortController();
  current = {controller, view: null};
  if (!r) {
    replace(main, h('div', {class: 'empty'}, h('h2', null, 'Nothing here'), h('p', null, 'This page does not exist. ', h('a', {href: '/map', 'data-link': ''}, 'Open the service map'), '.')));
    return;
  }
  document.title = {map: 'Service map', traces: 'Traces', trace: 'Trace ' + (r.id || '')}[r.name] + ' · thaw';
  current.view = r.view.render(main, {id: r.id, signal: controller.signal}) || null;
  if (params().get('live') === '1' && current.view?.refresh) {
    liveTimer = setInterval(() => current.view.refresh(), LIVE_EVERY_MS);
  }
}

function renderRange(r) {
  const el = document.getElementById('range');
  if (!r || r.name === 'trace') {
    replace(el);
    return;
  }
  const tr = timeRange();
  const p = params();
  const select = h('select', {'aria-label': 'Time range', onchange: (e) => {
    if (e.target.value === 'custom') {
      const end = Math.floor(Date.now() / 1000);
      setParams({range: null, from: Math.floor(tr.start), to: end});
    } else {
      setParams({range: e.target.value, from: null, to: null});
    }
    render();
  }},
  RANGES.map(([k, label]) => h('option', {value: k, selected: !tr.custom && tr.key === k}, label)),
  h('option', {value: 'custom', selected: !!tr.custom}, 'Custom…'));
  const parts = [select];
  if (tr.custom) {
    const toLocal = (sec) => {
      const d = new Date(sec * 1000);
      d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
      return d.toISOString().slice(0, 19);
    };
    const from = h('input', {type: 'datetime-local', step: 1, value: toLocal(tr.start), 'aria-label': 'From'});
    const to = h('input', {type: 'datetime-local', step: 1, value: toLocal(tr.end), 'aria-label': 'To'});
    parts.push(from, '–', to, h('button', {onclick: () => {
      const f = new Date(from.value).getTime() / 1000, t = new Date(to.value).getTime() / 1000;
      if (f < t) {
        setParams({from: Math.floor(f), to: Math.ceil(t)});
        render();
      }
    }}, 'Apply'));
  }
  const live = h('input', {type: 'checkbox', checked: p.get('live') === '1', disabled: !!tr.custom, onchange: (e) => {
    setParams({live: e.target.checked ? '1' : null});
    render();
  }});
  parts.push(h('label', {class: 'live', title: 'Refresh every 5 seconds'}, live, ' Live'));
  parts.push(h('button', {class: 'icon', title: 'Refresh', 'aria-label': 'Refresh', onclick: () => current?.view?.refresh ? current.view.refresh() : render()}, '↻'));
  replace(el, ...parts);
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
render();
