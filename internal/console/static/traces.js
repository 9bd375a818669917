// Trace search: a filter-expression box with completion and positioned
// parse errors, a response-time histogram that can be brushed to narrow the
// list, and a sortable list of the matching traces.
import {h, s, replace, paintedAt} from './dom.js';
import * as api from './api.js';
import {ms, dateTime, quote} from './fmt.js';
import {href, navigate, params, setParams, timeRange} from './app.js';

const KEYWORDS = [
  'responsetime', 'duration', 'http.status', 'http.url', 'http.method', 'http.useragent', 'http.clientip',
  'user', 'name', 'type', 'message', 'ok', 'error', 'fault', 'throttle', 'partial', 'inferred',
  'annotation.', 'service()', 'edge()', 'id(name: "", type: "")', 'group.name', 'group.arn',
  'rootcause.fault.service', 'rootcause.error.service', 'rootcause.responsetime.service',
  'rootcause.fault.entity', 'rootcause.fault.exception', 'AND', 'OR', 'NOT', 'CONTAINS', 'BEGINSWITH', 'ENDSWITH',
];

const COLUMNS = [
  ['time', 'Time', (t) => t.StartTime || 0],
  ['id', 'Trace ID', (t) => t.Id],
  ['entry', 'Entry point', (t) => t.EntryPoint?.Name || ''],
  ['method', 'Method', (t) => t.Http?.HttpMethod || ''],
  ['url', 'URL', (t) => t.Http?.HttpURL || ''],
  ['status', 'Status', (t) => t.Http?.HttpStatus || 0],
  ['rt', 'Response time', (t) => respTime(t)],
  ['cold', 'Cold start', (t) => (t.ColdStart ? 1 : 0)],
];

function respTime(t) {
  return t.ResponseTime ?? t.Duration ?? 0;
}

// errorView shows a parse error under the box: the expression with a caret
// at the column the server named, and its message.
function errorView(expr, err) {
  const m = /col (\d+): (.*)$/s.exec(err.message);
  if (err.type !== 'InvalidRequestException' || !m) {
    return h('div', {class: 'filter-error', role: 'alert'}, `${err.type}: ${err.message}`);
  }
  const col = Number(m[1]);
  return h('div', {class: 'filter-error', role: 'alert'},
    h('pre', null, expr + '\n' + ' '.repeat(Math.max(0, col - 1)) + '^'),
    h('div', null, `Column ${col}: ${m[2]}`));
}

// completer suggests keywords, service names and annotation keys for the
// word under the caret.
function completer(input, words) {
  const box = h('ul', {class: 'suggest', role: 'listbox', hidden: true});
  let items = [], active = 0;
  const token = () => {
    const upto = input.value.slice(0, input.selectionStart);
    const m = /[A-Za-z0-9_.:\-"(]*$/.exec(upto);
    return {start: upto.length - m[0].length, text: m[0].replace(/^[("]+/, '')};
  };
  function show() {
    const t = token();
    if (t.text.length < 1) return hide();
    const low = t.text.toLowerCase();
    items = words().filter((w) => w.toLowerCase().startsWith(low) && w.toLowerCase() !== low).slice(0, 8);
    if (!items.length) return hide();
    active = 0;
    replace(box, items.map((w, i) => h('li', {role: 'option', class: i === active ? 'active' : null, onmousedown: (e) => { e.preventDefault(); accept(i); }}, w)));
    box.hidden = false;
  }
  function hide() {
    box.hidden = true;
    items = [];
  }
  function accept(i) {
    const t = token();
    const w = items[i];
    const before = input.value.slice(0, input.selectionStart - t.text.length);
    const after = input.value.slice(input.selectionStart);
    input.value = before + w + after;
    const caret = (before + w).length - (w.endsWith('()') ? 1 : 0);
    input.setSelectionRange(caret, caret);
    hide();
  }
  input.addEventListener('input', show);
  input.addEventListener('blur', hide);
  input.addEventListener('keydown', (e) => {
    if (box.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      [...box.children].forEach((li, i) => li.classList.toggle('active', i === active));
    } else if (e.key === 'Tab' || (e.key === 'Enter' && items.length)) {
      e.preventDefault();
      e.stopPropagation();
      accept(active);
    } else if (e.key === 'Escape') {
      hide();
    }
  });
  return box;
}

// rtHistogram draws the matching traces' response times in bins; dragging
// across it selects a range, double-click clears it.
function rtHistogram(traces, sel, onSelect, width) {
  // Drawn at the box's own width, so that the axis text is not stretched.
  const W = Math.max(300, Math.round(width || 1000)), H = 120, base = H - 20, N = 40;
  const svg = s('svg', {class: 'rt-hist', viewBox: `0 0 ${W} ${H}`, 'aria-label': 'Response time histogram'});
  const times = traces.map(respTime);
  const max = Math.max(0.001, ...times);
  const bins = new Array(N).fill(0);
  for (const t of times) bins[Math.min(N - 1, Math.floor((t / max) * N))]++;
  const top = Math.max(1, ...bins);
  const bw = W / N;
  const inSel = (i) => sel && (i + 1) * (max / N) > sel[0] && i * (max / N) < sel[1];
  bins.forEach((n, i) => {
    svg.append(s('rect', {x: i * bw + 1, y: base - ((base - 4) * n) / top, width: bw - 2, height: ((base - 4) * n) / top, class: 'bar' + (sel && !inSel(i) ? ' dim' : '')},
      s('title', null, `${n} traces, ${ms((i * max) / N)} – ${ms(((i + 1) * max) / N)}`)));
  });
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s('text', {x: Math.min(W - 2, Math.max(2, f * W)), y: H - 4, class: 'axis' + (f === 1 ? ' end' : f > 0 ? ' mid' : '')}, ms(f * max)));
  }
  const brush = s('rect', {class: 'brush', y: 0, height: base, x: 0, width: 0});
  svg.append(brush);
  const toX = (ev) => {
    const r = svg.getBoundingClientRect();
    return Math.min(W, Math.max(0, ((ev.clientX - r.left) / r.width) * W));
  };
  let x0 = null;
  svg.addEventListener('pointerdown', (ev) => {
    x0 = toX(ev);
    svg.setPointerCapture(ev.pointerId);
    brush.setAttribute('x', x0);
    brush.setAttribute('width', 0);
  });
  svg.addEventListener('pointermove', (ev) => {
    if (x0 == null) return;
    const x = toX(ev);
    brush.setAttribute('x', Math.min(x, x0));
    brush.setAttribute('width', Math.abs(x - x0));
  });
  svg.addEventListener('pointerup', (ev) => {
    if (x0 == null) return;
    const x = toX(ev);
    const a = Math.min(x, x0), b = Math.max(x, x0);
    x0 = null;
    if (b - a < 4) return;
    onSelect([(a / W) * max, (b / W) * max]);
  });
  svg.addEventListener('dblclick', () => onSelect(null));
  return svg;
}

export function render(root, {signal}) {
  const p = params();
  const input = h('input', {type: 'text', class: 'filter', name: 'filter', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'Filter expression, e.g. service("checkout") { fault } AND annotation.ColdStart = true', value: p.get('filter') || '', 'aria-label': 'Filter expression'});
  let serviceNames = [], annotationKeys = [];
  const words = () => [...KEYWORDS, ...serviceNames.map((n) => `service(${quote(n)})`), ...annotationKeys.map((k) => 'annotation.' + k)];
  const form = h('form', {class: 'search', onsubmit: (e) => {
    e.preventDefault();
    setParams({filter: input.value.trim() || null, rtmin: null, rtmax: null}, {push: true});
    load();
  }}, h('div', {class: 'filter-box'}, input, completer(input, words)), h('button', {type: 'submit'}, 'Search'));
  const errorBox = h('div');
  const info = h('div', {class: 'status muted'});
  const histBox = h('div', {class: 'hist-box'});
  const table = h('div', {class: 'table-wrap'});
  replace(root, h('section', {class: 'traces-view'}, form, errorBox, info, histBox, table));

  let traces = [];
  let meta = {processed: 0, more: false, ms: 0};

  // Service names for completion come from the map of the same range.
  const tr0 = timeRange();
  api.serviceGraph(tr0.start, tr0.end, signal).then((g) => {
    serviceNames = [...new Set((g.Services || []).filter((x) => x.Type !== 'client').map((x) => x.Name))].sort();
  }).catch(() => {});

  function selection() {
    const q = params();
    if (!q.has('rtmin') || !q.has('rtmax')) return null;
    return [Number(q.get('rtmin')), Number(q.get('rtmax'))];
  }

  function draw() {
    const q = params();
    const sel = selection();
    const sortKey = q.get('sort') || 'time';
    const dir = q.get('dir') === 'asc' ? 1 : -1;
    const col = COLUMNS.find(([k]) => k === sortKey) || COLUMNS[0];
    let rows = sel ? traces.filter((t) => respTime(t) >= sel[0] && respTime(t) <= sel[1]) : traces;
    rows = [...rows].sort((a, b) => {
      const x = col[2](a), y = col[2](b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    const n = traces.length;
    replace(info, `${n}${meta.more ? '+' : ''} ${n === 1 && !meta.more ? 'trace matches' : 'traces match'}, ${meta.processed} scanned, in ${meta.ms} ms`, meta.loading ? ' (loading more…)' : '',
      sel ? [' · response time ', ms(sel[0]), ' – ', ms(sel[1]), ' (', rows.length, ' shown) ', h('a', {href: '#', onclick: (e) => { e.preventDefault(); setParams({rtmin: null, rtmax: null}); draw(); }}, 'clear')] : '',
      traces.length > 1 ? ' · drag across the histogram to narrow by response time' : '');
    replace(histBox, traces.length ? rtHistogram(traces, sel, (r) => {
      setParams(r ? {rtmin: r[0].toFixed(4), rtmax: r[1].toFixed(4)} : {rtmin: null, rtmax: null});
      draw();
    }, histBox.parentElement.clientWidth - 22) : '');
    if (!traces.length) {
      replace(table, h('div', {class: 'empty'}, h('h2', null, 'No traces match'), h('p', null, 'Widen the time range or change the filter.')));
      return;
    }
    const head = h('tr', null, COLUMNS.map(([k, label]) => h('th', {class: 'sortable' + (k === sortKey ? ' sorted' : ''), 'aria-sort': k === sortKey ? (dir > 0 ? 'ascending' : 'descending') : null,
      onclick: () => { setParams({sort: k, dir: k === sortKey && dir < 0 ? 'asc' : null}); draw(); }}, label, k === sortKey ? (dir > 0 ? ' ▲' : ' ▼') : '')));
    const body = h('tbody', null, rows.map((t) => {
      const status = t.Http?.HttpStatus;
      const flag = t.HasFault ? 'fault' : t.HasThrottle ? 'throttle' : t.HasError ? 'error' : 'ok';
      const link = href('/trace/' + encodeURIComponent(t.Id));
      return h('tr', {class: 'row ' + flag, dataset: {id: t.Id, rt: respTime(t)}, onclick: (e) => { if (!e.target.closest('a')) navigate(link); }},
        h('td', {class: 'nowrap'}, t.StartTime ? dateTime(t.StartTime) : ''),
        h('td', {class: 'mono'}, h('a', {href: link, 'data-link': ''}, t.Id)),
        h('td', null, t.EntryPoint?.Name || ''),
        h('td', null, t.Http?.HttpMethod || ''),
        h('td', {class: 'url', title: t.Http?.HttpURL || ''}, t.Http?.HttpURL || ''),
        h('td', null, status ? h('span', {class: 'badge ' + flag}, String(status)) : flag !== 'ok' ? h('span', {class: 'badge ' + flag}, flag) : ''),
        h('td', {class: 'num'}, ms(respTime(t))),
        h('td', null, t.ColdStart ? h('span', {class: 'badge cold'}, 'cold start') : ''));
    }));
    replace(table, h('table', {class: 'traces'}, h('thead', null, head), body));
  }

  async function load() {
    const tr = timeRange();
    const filter = params().get('filter') || '';
    input.value = filter;
    replace(errorBox);
    info.textContent = 'Searching…';
    const t0 = performance.now();
    // The list shows the first page as soon as it arrives and grows as
    // the next ones do.
    let shown = false;
    const onPage = (out) => {
      traces = out.summaries;
      meta = {processed: out.processed, more: out.more, ms: Math.round(performance.now() - t0), loading: !out.done};
      if (!shown || out.done) draw();
      if (!shown) {
        shown = true;
        root.dataset.renderMs = String(Math.round(performance.now() - t0));
        paintedAt(root);
      }
    };
    let out;
    try {
      out = await api.traceSummaries({start: tr.start, end: tr.end, filter, onPage}, signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      traces = [];
      replace(errorBox, errorView(filter, e));
      replace(info);
      replace(histBox);
      replace(table);
      return;
    }
    annotationKeys = [...new Set(traces.flatMap((t) => Object.keys(t.Annotations || {})))].sort();
    root.dataset.loadedFilter = filter; // which search the list shows, complete (the browser test waits on it)
  }
  load();
  return {refresh: load};
}
