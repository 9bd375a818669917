// One trace: its own small service map, then a waterfall of every segment
// and subsegment (virtualised, so thousands of rows stay smooth), with a
// hover card per bar; the raw documents in a second tab.
import {h, s, replace, showTip, moveTip, hideTip, kv, paintedAt} from './dom.js';
import * as api from './api.js';
import {ms, dateTime} from './fmt.js';
import {drawGraph} from './map.js';
import {href, params, setParams} from './app.js';

const ROW = 26; // px per waterfall row
const MAX_MINI_NODES = 60; // beyond this, laying out the trace's map takes seconds

// SERVICE_COLOURS are blues, teals and greens only: red, amber and purple
// mean fault, error and throttle here.
const SERVICE_COLOURS = ['#4e79a7', '#59a14f', '#3b8bc2', '#2f9e8f', '#6c8ebf', '#76b7b2', '#6b9f3a', '#4f6fb5', '#5aa3a8', '#88a65e'];

function serviceColour(name) {
  let x = 0;
  for (const c of name) x = (x * 31 + c.codePointAt(0)) >>> 0;
  return SERVICE_COLOURS[x % SERVICE_COLOURS.length];
}

function status(e) {
  if (e.fault) return 'fault';
  if (e.throttle) return 'throttle';
  if (e.error) return 'error';
  return 'ok';
}

// rows flattens the trace's documents into waterfall rows, depth first:
// each entity is followed by its subsegments and the segments it called,
// in start order.
export function buildRows(docs) {
  const segments = docs.filter((d) => !d.inferred);
  const byParent = new Map();
  const ids = new Set();
  const index = (e) => {
    ids.add(e.id);
    for (const sub of e.subsegments || []) index(sub);
  };
  segments.forEach(index);
  const roots = [];
  for (const seg of segments) {
    if (seg.parent_id && ids.has(seg.parent_id)) {
      if (!byParent.has(seg.parent_id)) byParent.set(seg.parent_id, []);
      byParent.get(seg.parent_id).push(seg);
    } else {
      roots.push(seg);
    }
  }
  const rows = [];
  const byStart = (a, b) => (a.start_time || 0) - (b.start_time || 0);
  const visit = (e, depth, seg, isSegment) => {
    rows.push({e, depth, seg, isSegment});
    const kids = [...(e.subsegments || []).map((x) => [x, false]), ...(byParent.get(e.id) || []).map((x) => [x, true])];
    kids.sort((a, b) => byStart(a[0], b[0]));
    for (const [k, isSeg] of kids) visit(k, depth + 1, isSeg ? k : seg, isSeg);
  };
  roots.sort(byStart).forEach((r) => visit(r, 0, r, true));
  return rows;
}

function isColdStart(row) {
  return !row.isSegment && row.e.name === 'Initialization' && row.seg.origin === 'AWS::Lambda::Function';
}

function card(row, t0) {
  const e = row.e;
  const end = e.end_time;
  const pairs = [
    ['Origin', row.isSegment ? (e.origin || 'segment') : (e.namespace ? `${e.namespace} subsegment` : 'subsegment') + ` of ${row.seg.name}`],
    ['Start', `+${ms(e.start_time - t0)}`],
    ['Duration', end ? ms(end - e.start_time) : 'in progress'],
    ['Status', status(e) === 'ok' ? null : status(e)],
  ];
  const http = e.http || {};
  if (http.request || http.response) {
    pairs.push(['HTTP', [http.request?.method?.toUpperCase(), http.request?.url, http.response?.status].filter(Boolean).join(' ')]);
  }
  const aws = e.aws || {};
  for (const [k, label] of [['operation', 'Operation'], ['table_name', 'Table'], ['queue_url', 'Queue'], ['function_name', 'Function'], ['request_id', 'Request ID'], ['region', 'Region'], ['function_arn', 'Function ARN']]) {
    if (aws[k]) pairs.push([label, String(aws[k])]);
  }
  if (e.sql) pairs.push(['SQL', [e.sql.url, e.sql.sanitized_query].filter(Boolean).join('\n')]);
  for (const [k, v] of Object.entries(e.annotations || {})) pairs.push([`annotation.${k}`, typeof v === "string" ? v : JSON.stringify(v)]);
  const out = [h('b', null, e.name), isColdStart(row) ? h('span', {class: 'badge cold'}, 'cold start') : '', kv(pairs)];
  if (e.metadata) {
    const text = JSON.stringify(e.metadata, null, 1);
    out.push(h('div', {class: 'muted'}, 'Metadata'), h('pre', {class: 'meta'}, text.length > 1500 ? text.slice(0, 1500) + '…' : text));
  }
  for (const x of e.cause?.exceptions || []) {
    out.push(h('div', {class: 'exc'}, h('b', null, x.type || 'Exception'), x.message ? ': ' + x.message : '',
      (x.stack || []).slice(0, 12).map((f) => h('div', {class: 'frame mono'}, `${f.label || ''} ${f.path || ''}:${f.line ?? ''}`))));
  }
  return out;
}

function ticks(span) {
  const target = span / 6;
  const steps = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
  const step = steps.find((x) => x >= target) || 600;
  const out = [];
  for (let t = 0; t <= span + 1e-9; t += step) out.push(t);
  return out;
}

function waterfall(rows, t0, t1) {
  const span = Math.max(t1 - t0, 1e-6);
  const pctOf = (t) => (100 * (t - t0)) / span;
  const axis = h('div', {class: 'axis-row'}, h('div', {class: 'label-col'}, 'Segment'),
    h('div', {class: 'bar-col'}, ticks(span).map((t) => h('span', {class: 'tick', style: {left: pctOf(t0 + t) + '%'}}, ms(t)))));
  const body = h('div', {class: 'wf-body', style: {height: Math.min(rows.length * ROW, Math.max(300, window.innerHeight - 420)) + 'px'}});
  const spacer = h('div', {class: 'wf-spacer', style: {height: rows.length * ROW + 'px'}});
  body.append(spacer);

  function rowEl(row, i) {
    const e = row.e;
    const end = e.end_time || t1;
    const st = status(e);
    const cold = isColdStart(row);
    const color = serviceColour(row.seg.name || '');
    const bar = h('div', {class: `bar ${st}${cold ? ' cold' : ''}${e.end_time ? '' : ' open'}`,
      style: {left: pctOf(e.start_time) + '%', width: Math.max(0.15, pctOf(end) - pctOf(e.start_time)) + '%', background: st === 'ok' && !cold ? color : null, opacity: row.isSegment || st !== 'ok' ? null : '0.78'}});
    const label = h('div', {class: 'label-col', style: {paddingLeft: 8 + row.depth * 14 + 'px'}},
      h('span', {class: 'dot', style: {background: color}}),
      h('span', {class: 'nm' + (row.isSegment ? ' seg' : '')}, e.name || '(unnamed)'),
      cold ? h('span', {class: 'badge cold'}, 'cold start') : '',
      row.isSegment && e.origin ? h('span', {class: 'origin'}, e.origin) : '');
    const dur = h('span', {class: 'dur', style: {left: `calc(${pctOf(end)}% + 6px)`}}, e.end_time ? ms(e.end_time - e.start_time) : 'in progress');
    const el = h('div', {class: 'wf-row' + (cold ? ' cold-row' : ''), style: {top: i * ROW + 'px'}, dataset: {name: e.name || '', index: i}},
      label, h('div', {class: 'bar-col'}, bar, dur));
    el.addEventListener('mouseenter', (ev) => showTip(ev, ...card(row, t0)));
    el.addEventListener('mousemove', moveTip);
    el.addEventListener('mouseleave', hideTip);
    return el;
  }

  // Only the rows in view (and a margin) exist in the DOM.
  let first = -1, last = -1;
  const shown = new Map();
  function update() {
    const top = body.scrollTop, height = body.clientHeight || 600;
    const a = Math.max(0, Math.floor(top / ROW) - 20), b = Math.min(rows.length, Math.ceil((top + height) / ROW) + 20);
    if (a === first && b === last) return;
    first = a;
    last = b;
    for (const [i, el] of shown) {
      if (i < a || i >= b) {
        el.remove();
        shown.delete(i);
      }
    }
    for (let i = a; i < b; i++) {
      if (!shown.has(i)) {
        const el = rowEl(rows[i], i);
        shown.set(i, el);
        spacer.append(el);
      }
    }
  }
  body.addEventListener('scroll', () => requestAnimationFrame(update));
  requestAnimationFrame(update);
  update();
  return h('div', {class: 'waterfall'}, axis, body);
}

export function render(root, {id, signal}) {
  replace(root, h('p', {class: 'muted pad'}, 'Loading trace…'));
  (async () => {
    const t0 = performance.now();
    let out;
    try {
      out = await api.traces([id], signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(root, h('div', {class: 'empty'}, h('h2', null, 'Could not load the trace'), h('p', null, `${e.type}: ${e.message}`)));
      return;
    }
    root.dataset.fetchMs = String(Math.round(performance.now() - t0));
    root.dataset.viewStartedAt = String(Math.round(t0));
    const tr = (out.Traces || [])[0];
    if (!tr) {
      replace(root, h('div', {class: 'empty'}, h('h2', null, 'Trace not found'),
        h('p', null, 'No documents of ', h('code', null, id), ' are stored. It may not have arrived yet, or it expired. ', h('a', {href: href('/traces'), 'data-link': ''}, 'Back to traces'))));
      return;
    }
    const docs = [];
    for (const seg of tr.Segments || []) {
      try {
        docs.push(JSON.parse(seg.Document));
      } catch {
        // A document the API returned that does not parse is shown raw only.
      }
    }
    const rows = buildRows(docs);
    const starts = rows.map((r) => r.e.start_time).filter((x) => x > 0);
    const ends = rows.map((r) => r.e.end_time || r.e.start_time).filter((x) => x > 0);
    const t0s = Math.min(...starts), t1s = Math.max(...ends);
    const flags = ['fault', 'error', 'throttle'].filter((f) => rows.some((r) => r.isSegment && r.e[f]));
    const cold = rows.find(isColdStart);
    const tab = params().get('tab') === 'json' ? 'json' : 'timeline';
    const tabs = h('div', {class: 'tabs', role: 'tablist'},
      ['timeline', 'json'].map((t) => h('button', {role: 'tab', 'aria-selected': String(t === tab), class: t === tab ? 'active' : null,
        onclick: () => { setParams({tab: t === 'json' ? 'json' : null}); render(root, {id, signal}); }}, t === 'json' ? 'Raw JSON' : 'Timeline')));
    const head = h('div', {class: 'trace-head'},
      h('h2', {class: 'mono'}, id),
      h('div', {class: 'facts'},
        h('span', null, dateTime(t0s)), h('span', null, 'Duration ', h('b', null, ms(tr.Duration ?? t1s - t0s))),
        h('span', null, `${rows.length} segments and subsegments`),
        flags.map((f) => h('span', {class: 'badge ' + f}, f)),
        cold ? h('span', {class: 'badge cold'}, `cold start · Initialization ${ms(cold.e.end_time - cold.e.start_time)}`) : ''));
    let content;
    if (tab === 'json') {
      content = h('div', {class: 'raw'}, (tr.Segments || []).map((seg) => {
        let text = seg.Document;
        try {
          text = JSON.stringify(JSON.parse(seg.Document), null, 2);
        } catch { /* shown as stored */ }
        return h('pre', {class: 'doc'}, text);
      }));
    } else {
      // The trace's own map is fetched once the waterfall is on screen, so
      // that it never delays it.
      const mini = h('div', {class: 'mini-slot'});
      api.traceGraph([id], signal).then((graph) => {
        const nodes = graph?.Services?.length || 0;
        if (nodes > MAX_MINI_NODES) replace(mini, h('p', {class: 'muted'}, `This trace's map has ${nodes} nodes, too many to draw here.`));
        else if (nodes) replace(mini, h('div', {class: 'mini-map'}, drawGraph(graph.Services, {seconds: Math.max(t1s - t0s, 1), compact: true})));
      }).catch(() => {});
      content = h('div', null, mini, rows.length ? waterfall(rows, t0s, t1s) : h('p', {class: 'muted'}, 'No segments to draw.'));
    }
    replace(root, h('section', {class: 'trace-view'}, h('p', null, h('a', {href: href('/traces'), 'data-link': ''}, '← Traces')), head, tabs, content));
    root.dataset.renderMs = String(Math.round(performance.now() - t0));
    paintedAt(root);
  })();
  return {cleanup: hideTip};
}
