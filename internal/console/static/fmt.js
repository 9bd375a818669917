// Formatting of times, durations, rates and filter literals.

export function ms(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return '–';
  if (seconds === 0) return '0';
  const v = seconds * 1000;
  if (v < 1) return v.toFixed(2) + ' ms';
  if (v < 10) return v.toFixed(1) + ' ms';
  if (v < 1000) return Math.round(v) + ' ms';
  if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1) + ' s';
  return (v / 60000).toFixed(1) + ' min';
}

export function pct(part, total) {
  if (!total) return '0%';
  const p = (100 * part) / total;
  return (p > 0 && p < 0.1 ? '<0.1' : p < 10 ? p.toFixed(1) : Math.round(p)) + '%';
}

export function rate(count, seconds) {
  const perMin = seconds > 0 ? (count * 60) / seconds : 0;
  return (perMin >= 100 ? Math.round(perMin) : perMin.toFixed(perMin >= 10 ? 1 : 2)) + '/min';
}

export function clock(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function dateTime(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  return d.toLocaleDateString(undefined, {month: 'short', day: 'numeric'}) + ' ' + clock(epochSeconds);
}

// quote writes s as a filter-expression string literal.
export function quote(str) {
  return '"' + String(str).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

// nodeRef names a service-graph node in a filter: by name and type.
export function nodeRef(name, type) {
  if (!type) return quote(name);
  return `id(name: ${quote(name)}, type: ${quote(type)})`;
}

// percentile of a histogram [{Value, Count}] (values in seconds).
export function percentile(hist, p) {
  if (!hist || hist.length === 0) return null;
  const sorted = [...hist].sort((a, b) => a.Value - b.Value);
  const total = sorted.reduce((n, e) => n + e.Count, 0);
  let seen = 0;
  for (const e of sorted) {
    seen += e.Count;
    if (seen >= p * total) return e.Value;
  }
  return sorted[sorted.length - 1].Value;
}
