// The service map: GetServiceGraph laid out left to right by dagre, each
// node with its type icon, request rate, average latency and a health ring.
import dagre from './vendor/dagre-3.1.3.esm.js';
import {h, s, replace, showTip, moveTip, hideTip, kv, paintedAt} from './dom.js';
import * as api from './api.js';
import {ms, pct, rate, percentile, nodeRef, quote} from './fmt.js';
import {href, navigate, params, setParams, timeRange} from './app.js';

// icon is a node type's badge: a short label inside the health ring.
export function icon(type) {
  switch (type) {
    case 'client': return '';
    case 'AWS::ApiGateway::Stage': return 'API';
    case 'AWS::Lambda': return 'λ';
    case 'AWS::Lambda::Function': return 'ƒ';
    case 'AWS::DynamoDB::Table': case 'AWS::DynamoDB': return 'DB';
    case 'AWS::SQS::Queue': case 'AWS::SQS': return 'SQS';
    case 'AWS::SNS::Topic': case 'AWS::SNS': return 'SNS';
    case 'AWS::S3::Bucket': case 'AWS::S3': return 'S3';
    case 'remote': return 'HTTP';
    case 'Database::SQL': return 'SQL';
  }
  if (type && type.startsWith('AWS::')) return 'AWS';
  return '◆';
}

export function typeLabel(type) {
  return {client: 'Client', remote: 'Remote HTTP', 'Database::SQL': 'SQL database'}[type] || type || 'Service';
}

// health splits a node's or edge's calls into ok, error, fault, throttle.
export function health(st) {
  if (!st) return {total: 0, ok: 0, error: 0, fault: 0, throttle: 0};
  const throttle = st.ErrorStatistics?.ThrottleCount || 0;
  const error = (st.ErrorStatistics?.TotalCount || 0) - throttle;
  const fault = st.FaultStatistics?.TotalCount || 0;
  return {total: st.TotalCount || 0, ok: st.OkCount || 0, error, fault, throttle};
}

function statsPairs(st, hist, seconds) {
  const hl = health(st);
  const avg = hl.total ? st.TotalResponseTime / hl.total : null;
  return [
    ['Requests', hl.total ? `${hl.total} (${rate(hl.total, seconds)})` : '0'],
    ['Average', ms(avg)],
    ['p50 / p90 / p99', hist?.length ? [0.5, 0.9, 0.99].map((p) => ms(percentile(hist, p))).join(' / ') : null],
    ['OK', hl.total ? pct(hl.ok, hl.total) : null],
    ['Errors (4xx)', hl.error ? pct(hl.error, hl.total) : null],
    ['Throttles (429)', hl.throttle ? pct(hl.throttle, hl.total) : null],
    ['Faults (5xx)', hl.fault ? pct(hl.fault, hl.total) : null],
  ];
}

// ring draws the health ring: arcs in proportion to ok, error, throttle and
// fault around a circle of radius r.
function ring(cx, cy, r, st) {
  const hl = health(st);
  const g = s('g', {class: 'ring'});
  const c = 2 * Math.PI * r;
  g.append(s('circle', {cx, cy, r, class: 'ring-bg'}));
  if (!hl.total) return g;
  let off = 0;
  for (const [k, n] of [['ok', hl.ok], ['error', hl.error], ['throttle', hl.throttle], ['fault', hl.fault]]) {
    if (!n) continue;
    const len = (c * n) / hl.total;
    g.append(s('circle', {cx, cy, r, class: 'arc ' + k, 'stroke-dasharray': `${len} ${c - len}`, 'stroke-dashoffset': -off, transform: `rotate(-90 ${cx} ${cy})`}));
    off += len;
  }
  return g;
}

// smooth turns dagre's edge points into a curve through their midpoints.
function smooth(points) {
  const f = (p) => p.x.toFixed(1) + ' ' + p.y.toFixed(1);
  if (points.length < 3) return 'M' + points.map(f).join(' L');
  let d = 'M' + f(points[0]);
  for (let i = 1; i < points.length - 1; i++) {
    const m = {x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2};
    d += ' Q' + f(points[i]) + ' ' + (i === points.length - 2 ? f(points[i + 1]) : f(m));
  }
  return d;
}

// person is the client node's icon, centred on (cx, cy).
function person(cx, cy) {
  return s('g', {class: 'person'}, s('circle', {cx, cy: cy - 4, r: 4}), s('path', {d: `M${cx - 7} ${cy + 8} a7 6 0 0 1 14 0 z`}));
}

// legend explains the health ring's colours.
export function legend() {
  return h('span', {class: 'legend'}, [['ok', 'OK'], ['error', 'Error (4xx)'], ['throttle', 'Throttle (429)'], ['fault', 'Fault (5xx)']]
    .map(([k, label]) => h('span', null, h('i', {class: k}), label)));
}

function truncate(str, n) {
  return str.length > n ? str.slice(0, n - 1) + '…' : str;
}

// drawGraph lays out services (GetServiceGraph's or GetTraceGraph's) and
// returns an SVG. onNode and onEdge are called on click with the service
// (and the edge and its target).
export function drawGraph(services, {seconds, compact = false, onNode, onEdge, selected} = {}) {
  const W = compact ? 160 : 214, H = compact ? 44 : 58, R = compact ? 14 : 19;
  const g = new dagre.graphlib.Graph();
  g.setGraph({rankdir: 'LR', nodesep: compact ? 16 : 28, ranksep: compact ? 50 : 90, marginx: 12, marginy: 12});
  g.setDefaultEdgeLabel(() => ({}));
  const byRef = new Map(services.map((svc) => [svc.ReferenceId, svc]));
  for (const svc of services) g.setNode(String(svc.ReferenceId), {width: W, height: H});
  for (const svc of services) {
    for (const e of svc.Edges || []) {
      if (byRef.has(e.ReferenceId)) g.setEdge(String(svc.ReferenceId), String(e.ReferenceId), {e});
    }
  }
  dagre.layout(g);
  const {width, height} = g.graph();
  const svg = s('svg', {class: 'graph' + (compact ? ' compact' : ''), viewBox: `0 0 ${Math.max(width, 10)} ${Math.max(height, 10)}`, width: Math.max(width, 10), height: Math.max(height, 10), role: 'img', 'aria-label': 'Service map'});
  svg.append(s('defs', null, s('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'}, s('path', {d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead'}))));
  const edges = s('g', {class: 'edges'});
  const nodes = s('g', {class: 'nodes'});
  svg.append(edges, nodes);
  for (const id of g.edges()) {
    const {e, points} = g.edge(id);
    const from = byRef.get(Number(id.v)), to = byRef.get(Number(id.w));
    const d = smooth(points);
    const hl = health(e.SummaryStatistics);
    const cls = hl.fault ? ' fault' : hl.throttle ? ' throttle' : hl.error ? ' error' : '';
    const group = s('g', {class: 'edge' + cls, dataset: {from: from.Name, to: to.Name}});
    group.append(s('path', {d, class: 'line', 'marker-end': 'url(#arrow)'}), s('path', {d, class: 'hit'}));
    if (!compact && hl.total) {
      const mid = points[Math.floor(points.length / 2)];
      group.append(s('text', {x: mid.x, y: mid.y - 6, class: 'edge-label'}, ms(e.SummaryStatistics.TotalResponseTime / hl.total)));
    }
    group.addEventListener('mouseenter', (ev) => showTip(ev, h('b', null, `${from.Name} → ${to.Name}`), kv(statsPairs(e.SummaryStatistics, e.ResponseTimeHistogram, seconds))));
    group.addEventListener('mousemove', moveTip);
    group.addEventListener('mouseleave', hideTip);
    if (onEdge) group.addEventListener('click', () => onEdge(from, e, to));
    edges.append(group);
  }
  for (const ref of g.nodes()) {
    const n = g.node(ref);
    const svc = byRef.get(Number(ref));
    const x = n.x - W / 2, y = n.y - H / 2;
    const st = svc.SummaryStatistics;
    const hl = health(st);
    const group = s('g', {class: 'node' + (selected && selected === svc.Name + '|' + (svc.Type || '') ? ' selected' : ''), transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`, tabindex: 0, dataset: {name: svc.Name, type: svc.Type || ''}});
    group.append(s('rect', {width: W, height: H, rx: 8, class: 'box'}));
    group.append(ring(R + 8, H / 2, R, st));
    group.append(svc.Type === 'client' ? person(R + 8, H / 2) : s('text', {x: R + 8, y: H / 2 + 4, class: 'icon'}, icon(svc.Type)));
    const tx = 2 * R + 16;
    group.append(s('text', {x: tx, y: compact ? H / 2 - 2 : H / 2 - 6, class: 'name'}, truncate(svc.Name, compact ? 15 : 21)));
    let sub = typeLabel(svc.Type);
    if (hl.total) sub = compact ? ms(st.TotalResponseTime / hl.total) : `${rate(hl.total, seconds)} · ${ms(st.TotalResponseTime / hl.total)}`;
    group.append(s('text', {x: tx, y: compact ? H / 2 + 12 : H / 2 + 14, class: 'sub'}, sub));
    group.addEventListener('mouseenter', (ev) => showTip(ev, h('b', null, svc.Name), h('div', {class: 'muted'}, typeLabel(svc.Type)), kv(statsPairs(st, svc.ResponseTimeHistogram, seconds))));
    group.addEventListener('mousemove', moveTip);
    group.addEventListener('mouseleave', hideTip);
    if (onNode) {
      group.addEventListener('click', () => onNode(svc));
      group.addEventListener('keydown', (ev) => ev.key === 'Enter' && onNode(svc));
    }
    nodes.append(group);
  }
  return svg;
}

// histogram draws a response-time histogram ([{Value, Count}], seconds).
export function histogram(hist, {width = 320, height = 110} = {}) {
  const svg = s('svg', {class: 'hist', width, height, viewBox: `0 0 ${width} ${height}`});
  if (!hist?.length) {
    svg.append(s('text', {x: 8, y: height / 2, class: 'muted'}, 'No completed requests'));
    return svg;
  }
  const sorted = [...hist].sort((a, b) => a.Value - b.Value);
  const max = sorted[sorted.length - 1].Value || 0.001;
  const bins = new Array(24).fill(0);
  for (const e of sorted) bins[Math.min(bins.length - 1, Math.floor((e.Value / max) * bins.length))] += e.Count;
  const top = Math.max(...bins);
  const bw = (width - 8) / bins.length, base = height - 18;
  bins.forEach((n, i) => {
    const bh = top ? ((base - 6) * n) / top : 0;
    svg.append(s('rect', {x: 4 + i * bw + 1, y: base - bh, width: bw - 2, height: bh, class: 'bar'}, s('title', null, `${n} requests up to ${ms(((i + 1) * max) / bins.length)}`)));
  });
  svg.append(s('text', {x: 4, y: height - 4, class: 'axis'}, '0'), s('text', {x: width - 4, y: height - 4, class: 'axis end'}, ms(max)));
  return svg;
}

export function render(root, {signal}) {
  const panel = h('aside', {class: 'panel', hidden: true});
  const canvas = h('div', {class: 'canvas'});
  const status = h('div', {class: 'status muted'});
  replace(root, h('section', {class: 'map-view'}, h('div', {class: 'map-wrap'}, status, canvas), panel));

  let services = [];
  let seconds = 3600;

  function openPanel(title, type, st, hist, filter) {
    panel.hidden = false;
    replace(panel,
      h('button', {class: 'close icon', 'aria-label': 'Close', onclick: () => { panel.hidden = true; setParams({sel: null}); }}, '×'),
      h('h2', null, title), h('div', {class: 'muted'}, type),
      kv(statsPairs(st, hist, seconds)),
      h('h3', null, 'Response time'), histogram(hist),
      h('p', null, h('a', {class: 'button', href: href('/traces', {filter}), 'data-link': ''}, 'Show traces')),
      h('p', {class: 'muted small'}, 'Filter: ', h('code', null, filter)));
  }
  function onNode(svc) {
    setParams({sel: svc.Name + '|' + (svc.Type || '')});
    openPanel(svc.Name, typeLabel(svc.Type), svc.SummaryStatistics, svc.ResponseTimeHistogram, `service(${nodeRef(svc.Name, svc.Type)})`);
  }
  function onEdge(from, e, to) {
    openPanel(`${from.Name} → ${to.Name}`, 'Edge', e.SummaryStatistics, e.ResponseTimeHistogram, `edge(${quote(from.Name)}, ${quote(to.Name)})`);
  }

  async function load() {
    const tr = timeRange();
    seconds = tr.end - tr.start;
    status.textContent = 'Loading…';
    const t0 = performance.now();
    try {
      const out = await api.serviceGraph(tr.start, tr.end, signal);
      services = out.Services || [];
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(status, h('span', {class: 'err'}, `Could not load the service map: ${e.type}: ${e.message}`));
      return;
    }
    if (services.length === 0) {
      replace(status);
      replace(canvas, h('div', {class: 'empty'}, h('h2', null, 'No traces in this time range'),
        h('p', null, 'Point an X-Ray SDK at thaw (', h('code', null, 'AWS_XRAY_DAEMON_ADDRESS=' + location.hostname + ':2000'), ') or send OpenTelemetry or ',
          h('code', null, 'PutTraceSegments'), ' calls, then refresh. Or widen the time range.')));
      return;
    }
    const sel = params().get('sel');
    replace(canvas, drawGraph(services, {seconds, onNode, onEdge, selected: sel}));
    const ms0 = performance.now() - t0;
    replace(status, `${services.length} nodes · drawn in ${Math.round(ms0)} ms · click a node or an edge for its details and traces `, legend());
    root.dataset.renderMs = String(Math.round(ms0));
    paintedAt(root);
    if (sel) {
      const svc = services.find((x) => x.Name + '|' + (x.Type || '') === sel);
      if (svc) onNode(svc);
    }
  }
  load();
  return {refresh: load, cleanup: hideTip};
}
