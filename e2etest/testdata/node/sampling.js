// Serves HTTP requests with a plain http.Server whose handler makes the same calls as the
// aws-xray-sdk-express middleware (processHeaders, resolveName, resolveSampling, segment
// close on 'finish'), so that each request's sampling decision comes from aws-xray-sdk-core's
// centralized sampler, with the rules and targets it fetches from the TCP part of
// AWS_XRAY_DAEMON_ADDRESS.
//
// It starts the sampler, waits (at most 15 s) for the rules, then sends HEALTH_REQUESTS
// requests to /health over about 3 s and CHECKOUT_REQUESTS requests to /checkout over about
// 5 s (concurrently), then waits (at most 25 s from the start) for the SDK to report its
// statistics with SamplingTargets, and prints one JSON line with what the SDK decided.
// The test runs it with NODE_PATH pointing at e2etest/node/node_modules.
'use strict';

const http = require('http');
const AWSXRay = require('aws-xray-sdk-core');

const started = Date.now();
let rulesFetched = false;
let targetsReported = false;
const stamp = () => new Date().toISOString().slice(11, 23);
const watch = (level) => (...args) => {
  const msg = args.map(String).join(' ');
  process.stderr.write(`${stamp()} xray ${level}: ${msg}\n`);
  if (msg.includes('Successfully refreshed centralized sampling rule cache')) rulesFetched = true;
  if (msg.includes('Successfully reported rule statistics')) targetsReported = true;
};
AWSXRay.setLogger({ debug: watch('debug'), info: watch('info'), warn: watch('warn'), error: watch('error') });
AWSXRay.setContextMissingStrategy('LOG_ERROR');
// A socket that is closed after each send keeps the process alive until the datagram is out.
require('aws-xray-sdk-core/dist/lib/segment_emitter').disableReusableSocket();

const mw = AWSXRay.middleware;
mw.setDefaultName('shop');

const paths = { '/health': { requests: 0, sampled: 0, trace_ids: [] }, '/checkout': { requests: 0, sampled: 0, trace_ids: [] } };

const server = http.createServer((req, res) => {
  const header = mw.processHeaders(req);
  const segment = new AWSXRay.Segment(mw.resolveName(req.headers.host), header.root, header.parent);
  mw.resolveSampling(header, segment, res);
  segment.addIncomingRequestData(new mw.IncomingRequestData(req));
  const p = paths[req.url];
  if (p) {
    p.requests++;
    if (!segment.notTraced) {
      p.sampled++;
      p.trace_ids.push(segment.trace_id);
    }
  }
  res.on('finish', () => {
    segment.http.close(res);
    segment.close();
  });
  res.end('ok\n');
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

async function send(port, path, n, overMs) {
  for (let i = 0; i < n; i++) {
    await get(port, path);
    await sleep(overMs / n);
  }
}

function envInt(name, def) {
  const n = parseInt(process.env[name] || '', 10);
  return n > 0 ? n : def;
}

async function main() {
  // The express middleware starts the pollers on the first decision; start them up front.
  mw.sampler.start();
  const deadline = started + 15000;
  while (!rulesFetched && Date.now() < deadline) await sleep(50);
  if (!rulesFetched) throw new Error('the SDK did not fetch sampling rules within 15 s');

  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const load = Date.now();
  await Promise.all([
    send(port, '/health', envInt('HEALTH_REQUESTS', 20), 3000),
    send(port, '/checkout', envInt('CHECKOUT_REQUESTS', 30), 5000),
  ]);
  const loadSeconds = (Date.now() - load) / 1000;
  server.close();

  while (!targetsReported && Date.now() < started + 25000) await sleep(50);
  console.log(JSON.stringify({ rules_fetched: rulesFetched, targets_reported: targetsReported, paths, load_seconds: loadSeconds }));
}

main().catch((err) => {
  console.error('sampling.js:', err);
  process.exit(1);
});
