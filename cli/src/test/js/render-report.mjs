// Renders an HTML report in headless Chromium (offline), takes a screenshot, and prints what the
// plots show (read back from the rendered SVG) next to the embedded run records, as one JSON object.
// usage: node render-report.mjs <report.html> <screenshot.png>
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';

const [html, png] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const failedRequests = [];
  page.on('requestfailed', r => failedRequests.push(r.url()));
  page.on('request', r => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) failedRequests.push('network: ' + r.url()); });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  await page.screenshot({ path: png, fullPage: true });
  const shown = await page.evaluate(() => {
    const num = (el, a) => Number(el.getAttribute(a));
    const box = (sel) => { const e = document.querySelector(sel); if (!e) return null; const r = e.getBoundingClientRect(); return { w: r.width, h: r.height }; };
    return {
      records: JSON.parse(document.getElementById('run-data').textContent),
      points: [...document.querySelectorAll('#accuracy-chart circle.point')].map(c => ({ series: c.dataset.series, round: num(c, 'data-round'), value: num(c, 'data-value'), cy: num(c, 'cy') })),
      paid: [...document.querySelectorAll('#payout-chart rect.paid')].map(r => ({ provider: r.dataset.provider, value: r.dataset.value, claimed: r.dataset.claimed, width: num(r, 'width') })),
      slashRows: [...document.querySelectorAll('#slashes tr.slash')].map(r => r.dataset.provider),
      provenance: [...document.querySelectorAll('#provenance tr.provenance')].map(r => ({ round: num(r, 'data-round'), hash: r.dataset.modelHash })),
      rounds: [...document.querySelectorAll('#timeline-chart rect.round-span')].map(r => num(r, 'data-round')),
      charts: { accuracy: box('#accuracy-chart'), payouts: box('#payout-chart'), timeline: box('#timeline-chart') },
      kpiAccuracy: document.querySelector('#kpi-accuracy b').textContent,
    };
  });
  shown.failedRequests = failedRequests;
  console.log(JSON.stringify(shown));
} finally {
  await browser.close();
}
