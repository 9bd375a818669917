// Times the console's two heaviest pages over a large store, for
// e2etest/console_speed_test.go: the service map and the trace list of the
// last hour, each opened in a fresh page RUNS times. For each it reports
// when the frame showing the result was painted, in ms since navigation
// started, and saves a screenshot of the last run.
import {chromium} from 'playwright-core';
import {join} from 'node:path';

const {BASE, SHOTS, CHROMIUM, RUNS = '5'} = process.env;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const out = {pageErrors: []};
try {
  for (const [name, path, ready] of [['map', '/map?range=1h', 'svg.graph .node'], ['traces', '/traces?range=1h', 'table.traces tr.row']]) {
    const times = [];
    for (let i = 0; i < Number(RUNS); i++) {
      const page = await browser.newPage({viewport: {width: 1440, height: 900}});
      page.on('pageerror', (e) => out.pageErrors.push(e.message));
      await page.goto(BASE + path);
      await page.waitForSelector(ready, {timeout: 60000});
      await page.waitForFunction(() => document.getElementById('main').dataset.paintedAt, null, {timeout: 60000});
      times.push(Number(await page.locator('#main').getAttribute('data-painted-at')));
      out[name + 'Status'] = await page.locator('.status').first().innerText();
      if (i === Number(RUNS) - 1) await page.screenshot({path: join(SHOTS, name + '-1h.png')});
      await page.close();
    }
    out[name + 'PaintedAt'] = times;
  }
  console.log(JSON.stringify(out));
} catch (e) {
  console.error('console speed: ' + e.message);
  console.log(JSON.stringify(out));
  process.exitCode = 1;
} finally {
  await browser.close();
}
