// The X-Ray HTTP API, as any client calls it: POST with a JSON body. The
// console uses nothing else.

export class APIError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

async function call(path, body, signal) {
  let r;
  try {
    r = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body), signal});
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new APIError('NetworkError', `thaw did not answer (${e.message}); is it still running?`, 0);
  }
  const text = await r.text();
  let data = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new APIError('BadResponse', `${path} answered ${r.status} with something that is not JSON`, r.status);
    }
  }
  if (!r.ok) {
    const type = data.__type || r.headers.get('x-amzn-ErrorType') || `HTTP ${r.status}`;
    throw new APIError(type.split(':')[0], data.Message || data.message || text, r.status);
  }
  return data;
}

export function serviceGraph(start, end, signal) {
  return call('/ServiceGraph', {StartTime: start, EndTime: end}, signal);
}

export function traceGraph(ids, signal) {
  return call('/TraceGraph', {TraceIds: ids}, signal);
}

export function traces(ids, signal) {
  return call('/Traces', {TraceIds: ids}, signal);
}

// traceSummaries reads up to maxPages pages of summaries, newest first,
// calling onPage with the running result after each page.
export async function traceSummaries({start, end, filter, maxPages = 10, onPage}, signal) {
  const out = {summaries: [], processed: 0, more: false, done: false};
  let token;
  for (let i = 0; i < maxPages; i++) {
    const body = {StartTime: start, EndTime: end, TimeRangeType: 'TraceId'};
    if (filter) body.FilterExpression = filter;
    if (token) body.NextToken = token;
    const page = await call('/TraceSummaries', body, signal);
    out.summaries.push(...(page.TraceSummaries || []));
    out.processed += page.TracesProcessedCount || 0;
    token = page.NextToken;
    out.more = !!token;
    out.done = !token || i === maxPages - 1;
    onPage?.(out);
    if (!token) return out;
  }
  return out;
}
