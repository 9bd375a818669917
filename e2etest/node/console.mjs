// The console's browser test, driven by e2etest/console_test.go: Debian
// Chromium under playwright-core opens each view of a running thaw, checks
// what a user would look at, saves 1440×900 screenshots, and prints one JSON
// object of findings on stdout for the Go test to check. A failed step
// throws, printing the step, and exits non-zero.
import {chromium} from 'playwright-core';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';

const {BASE, TRACE, XSS_TRACE, BIG_TRACE, SHOTS, CHROMIUM} = process.env;
mkdirSync(SHOTS, {recursive: true});
const out = {pageErrors: []};
let step = 'launch';

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({viewport: {width: 1440, height: 900}});
  page.on('pageerror', (e) => out.pageErrors.push(e.message));
  page.on('dialog', (d) => { out.pageErrors.push('dialog opened: ' + d.message()); d.dismiss(); });
  const shot = (name) => page.screenshot({path: join(SHOTS, name + '.png')});
  const tipText = () => page.locator('#tip').innerText();

  step = 'service map';
  await page.goto(BASE + '/map?range=15m');
  await page.waitForSelector('svg.graph .node');
  out.mapRenderMs = Number(await page.locator('#main').getAttribute('data-render-ms'));
  out.nodes = await page.$$eval('svg.graph .node', (ns) => ns.map((n) => n.dataset.name + ' (' + (n.dataset.type || '-') + ')'));
  out.edges = await page.$$eval('svg.graph .edge', (es) => es.map((e) => e.dataset.from + ' -> ' + e.dataset.to));
  await shot('map');
  const table = page.locator('svg.graph .node[data-name="users"]');
  await table.hover();
  await page.waitForSelector('#tip:not([hidden])');
  out.mapNodeTip = await tipText();
  await shot('map-hover');
  await page.mouse.move(0, 0);
  await page.waitForSelector('#tip', {state: 'hidden'});
  // The middle of the edge's curve, in the viewport (a curve's box centre
  // may lie off the line).
  const mid = await page.evaluate(() => {
    const p = document.querySelector('svg.graph .edge[data-from="register-fn"][data-to="users"] .hit');
    const q = p.getPointAtLength(p.getTotalLength() / 2);
    const m = p.getScreenCTM();
    return {x: q.x * m.a + q.y * m.c + m.e, y: q.x * m.b + q.y * m.d + m.f};
  });
  await page.mouse.move(mid.x, mid.y, {steps: 4});
  await page.waitForSelector('#tip:not([hidden])');
  out.mapEdgeTip = await tipText();
  await table.click();
  await page.waitForSelector('.panel:not([hidden]) a.button');
  out.panelFilter = await page.locator('.panel code').innerText();
  await shot('map-panel');
  await page.locator('.panel a.button').click();

  step = 'traces from the map';
  await page.waitForSelector('table.traces tr.row');
  out.fromMapURL = page.url();
  out.fromMapRows = await page.$$eval('table.traces tr.row', (rs) => rs.map((r) => r.dataset.id));

  step = 'typed filter';
  await page.goto(BASE + '/traces?range=15m');
  await page.waitForSelector('table.traces tr.row');
  const box = page.locator('input.filter');
  await box.fill('');
  await box.pressSequentially('service("users")', {delay: 5});
  await page.locator('.suggest').waitFor({state: 'visible'}).catch(() => {});
  out.suggestions = await page.$$eval('.suggest li', (ls) => ls.map((l) => l.textContent));
  await page.keyboard.press('Escape');
  await page.locator('form.search button[type=submit]').click();
  await page.waitForFunction(() => document.getElementById('main').dataset.loadedFilter === 'service("users")');
  out.typedRows = await page.$$eval('table.traces tr.row', (rs) => rs.map((r) => r.dataset.id));
  out.tracesRenderMs = Number(await page.locator('#main').getAttribute('data-render-ms'));
  await shot('traces');

  step = 'broken filter';
  await box.fill('responsetime >');
  await page.locator('form.search button[type=submit]').click();
  await page.waitForSelector('.filter-error');
  out.filterError = await page.locator('.filter-error').innerText();
  await shot('filter-error');

  step = 'trace timeline';
  await page.goto(BASE + '/trace/' + TRACE);
  await page.waitForSelector('.wf-row');
  out.traceRenderMs = Number(await page.locator('#main').getAttribute('data-render-ms'));
  out.rows = await page.$$eval('.wf-row', (rs) => rs.map((r) => r.dataset.name));
  out.coldRow = await page.locator('.wf-row.cold-row').innerText();
  out.coldBadge = await page.locator('.trace-head .badge.cold').innerText();
  await page.waitForSelector('.mini-map .node');
  out.miniMapNodes = await page.$$eval('.mini-map .node', (ns) => ns.map((n) => n.dataset.name));
  await shot('trace');
  const ddb = page.locator('.wf-row[data-name="dynamodb" i]').first();
  await ddb.locator('.bar').hover();
  await page.waitForSelector('#tip:not([hidden])');
  out.dynamoTip = await tipText();
  await shot('trace-hover');
  await page.locator('.tabs button', {hasText: 'Raw JSON'}).click();
  await page.waitForSelector('pre.doc');
  out.rawDocs = await page.locator('pre.doc').count();
  await shot('trace-json');

  step = 'sort and brush';
  await page.goto(BASE + '/traces?range=15m');
  await page.waitForSelector('table.traces tr.row');
  const rts = () => page.$$eval('table.traces tr.row', (rs) => rs.map((r) => Number(r.dataset.rt)));
  await page.locator('table.traces th', {hasText: 'Response time'}).click();
  out.sortedDesc = await rts();
  await page.locator('table.traces th', {hasText: 'Response time'}).click();
  out.sortedAsc = await rts();
  out.sortURL = page.url();
  const hist = await page.locator('svg.rt-hist').boundingBox();
  await page.mouse.move(hist.x + 2, hist.y + hist.height / 2);
  await page.mouse.down();
  await page.mouse.move(hist.x + hist.width * 0.6, hist.y + hist.height / 2, {steps: 8});
  await page.mouse.up();
  await page.waitForFunction(() => new URLSearchParams(location.search).has('rtmin'));
  out.brushURL = page.url();
  out.brushedRTs = await rts();
  await shot('traces-brushed');

  step = 'live';
  let navigations = 0;
  page.on('framenavigated', () => navigations++);
  await page.goto(BASE + '/traces?range=15m&live=1');
  await page.waitForSelector('table.traces tr.row');
  navigations = 0;
  const now = Date.now() / 1000;
  const liveTrace = `1-${Math.floor(now).toString(16)}-${'0'.repeat(20)}1ee7`;
  const put = await page.request.post(BASE + '/TraceSegments', {data: {TraceSegmentDocuments: [JSON.stringify({
    trace_id: liveTrace, id: '00000000000001ee', name: 'live-svc', start_time: now - 0.5, end_time: now - 0.2})]}});
  out.livePut = put.status();
  await page.waitForSelector(`table.traces tr.row[data-id="${liveTrace}"]`, {timeout: 20000});
  out.liveNavigations = navigations;

  step = 'big trace';
  await page.goto(BASE + '/trace/' + BIG_TRACE);
  await page.waitForSelector('.wf-row');
  await page.waitForFunction(() => document.getElementById('main').dataset.paintedAt);
  out.bigPaintedAt = Number(await page.locator('#main').getAttribute('data-painted-at'));
  out.bigRenderMs = Number(await page.locator('#main').getAttribute('data-render-ms'));
  out.bigFetchMs = Number(await page.locator('#main').getAttribute('data-fetch-ms'));
  out.bigViewStartedAt = Number(await page.locator('#main').getAttribute('data-view-started-at'));
  out.bigRowsInDOM = await page.locator('.wf-row').count();
  out.bigRows = Number((await page.locator('.trace-head .facts').innerText()).match(/(\d+) segments and subsegments/)[1]);
  // Scroll the waterfall top to bottom and record every frame's gap.
  out.bigFrames = await page.evaluate(async () => {
    const body = document.querySelector('.wf-body');
    const gaps = [];
    let last = performance.now();
    let running = true;
    const tick = (t) => { gaps.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    for (let y = 0; y <= body.scrollHeight; y += 600) {
      body.scrollTop = y;
      await new Promise((r) => setTimeout(r, 16));
    }
    running = false;
    await new Promise((r) => setTimeout(r, 50));
    gaps.sort((a, b) => b - a);
    return {frames: gaps.length, worstMs: Math.round(gaps[0]), over50ms: gaps.filter((g) => g > 50).length, scrolledTo: body.scrollTop, height: body.scrollHeight};
  });
  out.bigLastRow = await page.$$eval('.wf-row', (rs) => Math.max(...rs.map((r) => Number(r.dataset.index))));
  await shot('trace-big');

  step = 'untrusted strings';
  await page.goto(BASE + '/traces?range=15m');
  await page.waitForSelector('table.traces tr.row');
  await page.goto(BASE + '/trace/' + XSS_TRACE);
  await page.waitForSelector('.wf-row');
  await page.locator('.wf-row').first().hover();
  await page.waitForSelector('#tip:not([hidden])');
  out.xssTip = await tipText();
  out.xssRows = await page.$$eval('.wf-row', (rs) => rs.map((r) => r.dataset.name));
  const injected = () => page.evaluate(() => document.querySelectorAll('body img, body script, body iframe, body object').length);
  out.injectedElements = await injected();
  await shot('xss-trace');
  await page.goto(BASE + '/map?range=15m');
  await page.waitForSelector('svg.graph .node');
  await shot('xss-map');
  out.xssRan = await page.evaluate(() => window.__xss ?? null);
  out.injectedElements += await injected();

  console.log(JSON.stringify(out));
} catch (e) {
  console.error(`console test, step "${step}": ${e.message}`);
  console.log(JSON.stringify(out));
  process.exitCode = 1;
} finally {
  await browser.close();
}
