// Checks the runs index page (`<store>/index.html`) in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser is downloaded):
//
//   - the page loads from file:// with no console error, page error, CSP violation or network
//     request (its policy is `default-src 'none'` plus the hashes of its inline script and style,
//     so a violation means a hash is stale or something not allowed crept in);
//   - its inline script ran (the row counter is filled in), and the page holds exactly that one
//     script and no images (nothing from the runs became markup);
//   - clicking a numeric header (`rows`, `roc_auc`) sorts the rows numerically ascending, missing
//     values last, and a second click descending; clicking a text header (`experiment`) sorts
//     text; the order differs from the page's first order where the data allow it;
//   - typing in the filter hides exactly the rows that lack the word, a word no row holds hides
//     them all, and clearing it shows every row again;
//   - every link resolves to an existing file (each run's report.html), and following one opens
//     the report without console errors;
//   - a screenshot of the page is written.
//
// Usage: node check.mjs INDEX_HTML SCREENSHOT_PNG
// Exits 0 when every check passes, 1 otherwise (each failure printed on stderr).

import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [indexPath, screenshotPath] = process.argv.slice(2);
if (!indexPath || !screenshotPath) {
  console.error('usage: node check.mjs INDEX_HTML SCREENSHOT_PNG');
  process.exit(2);
}
const indexUrl = pathToFileURL(resolve(indexPath)).href;

const failures = [];
function check(ok, what) {
  if (ok) {
    console.log(`ok: ${what}`);
  } else {
    console.error(`FAIL: ${what}`);
    failures.push(what);
  }
}

const userDataDir = mkdtempSync(join(tmpdir(), 'check-index-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1800, height: 700 },
});

// everything the pages say or do that the check must see
const problems = [];
const requests = [];
context.on('console', (msg) => {
  if (msg.type() === 'error' || msg.type() === 'warning') {
    problems.push(`console ${msg.type()}: ${msg.text()}`);
  }
});
context.on('weberror', (e) => problems.push(`page error: ${e.error()}`));
context.on('request', (req) => requests.push(req.url()));
// CSP violations are reported as console errors too; this records them whatever the wording
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
  });
});

try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(indexUrl, { waitUntil: 'load' });

  const total = await page.locator('#runs tbody tr').count();
  check(total >= 4, `the table has rows (${total})`);
  check(
    (await page.locator('#shown').textContent()) === `${total} of ${total} rows shown`,
    'the inline script ran (row counter filled in)',
  );
  check((await page.locator('script').count()) === 1, 'exactly one script element');
  check((await page.locator('img').count()) === 0, 'no image elements (nothing from runs is markup)');

  // --- sorting
  const columnIndex = async (name) =>
    page.$$eval('#runs thead th', (ths, name) => ths.findIndex((th) => th.textContent === name), name);
  const column = async (col) =>
    page.$$eval(
      '#runs tbody tr',
      (rows, col) =>
        rows
          .filter((r) => !r.hidden)
          .map((r) => r.cells[col].getAttribute('data-v') ?? r.cells[col].textContent),
      col,
    );
  const clickHeader = async (name) => page.locator('#runs thead th button', { hasText: name }).first().click();
  const ariaSort = async (col) => page.$eval(`#runs thead th:nth-child(${col + 1})`, (th) => th.getAttribute('aria-sort'));
  const asNumbers = (values) => values.map((v) => (v === '' ? NaN : Number(v)));
  const numericSorted = (values, dir) =>
    [...values].sort((a, b) => (isNaN(a) || isNaN(b) ? isNaN(a) - isNaN(b) : dir * (a - b)));
  const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

  for (const name of ['rows', 'roc_auc']) {
    const col = await columnIndex(name);
    check(col >= 0, `column ${name} exists`);
    const before = asNumbers(await column(col));
    await clickHeader(name);
    const up = asNumbers(await column(col));
    check(same(up, numericSorted(before, 1)), `${name}: first click sorts numerically ascending, missing last [${up}]`);
    check((await ariaSort(col)) === 'ascending', `${name}: header marked ascending`);
    if (!same(before, numericSorted(before, 1))) {
      check(!same(before, up), `${name}: the order changed`);
    }
    await clickHeader(name);
    const down = asNumbers(await column(col));
    check(same(down, numericSorted(before, -1)), `${name}: second click sorts descending, missing last [${down}]`);
    check((await ariaSort(col)) === 'descending', `${name}: header marked descending`);
  }
  // numeric, not text, order: 900 before 5000 before 12000
  {
    const col = await columnIndex('rows');
    await clickHeader('rows'); // third click: ascending again
    const values = asNumbers(await column(col));
    const textOrder = [...values].map(String).sort();
    check(
      !same(values.map(String), textOrder),
      `rows: numeric order differs from text order [${values}] vs [${textOrder}]`,
    );
  }
  {
    const col = await columnIndex('experiment');
    await clickHeader('experiment');
    const up = await column(col);
    const expected = [...up].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
    check(same(up, expected), `experiment: text sort ascending [${up}]`);
    await clickHeader('experiment');
    const down = await column(col);
    check(same(down, [...expected].reverse()), `experiment: second click sorts descending [${down}]`);
  }

  // --- filtering
  const visibleCount = async () => page.locator('#runs tbody tr:visible').count();
  // a word matches within one cell (the start time's `Z` and a mode `score` make no `zscore`)
  const rowsHolding = async (word) =>
    page.$$eval(
      '#runs tbody tr',
      (rows, w) => rows.filter((r) => Array.from(r.cells).some((c) => c.textContent.toLowerCase().includes(w))).length,
      word,
    );
  const detectorRows = async (kind) =>
    page.$$eval(
      '#runs tbody tr',
      (rows, kind) => rows.filter((r) => r.cells[8].textContent === kind || r.cells[0].textContent === kind).length,
      kind,
    );
  check((await rowsHolding('zscore')) === (await detectorRows('zscore')), 'only zscore rows hold the word zscore');
  for (const word of ['zscore', 'score']) {
    const expected = await rowsHolding(word);
    await page.locator('#filter').fill(word);
    const visible = await visibleCount();
    check(
      visible === expected && expected > 0 && expected < total,
      `filter "${word}": ${visible} of ${total} rows visible, ${expected} hold the word`,
    );
    check(
      (await page.locator('#shown').textContent()) === `${expected} of ${total} rows shown`,
      `filter "${word}": counter says ${expected} of ${total}`,
    );
  }
  await page.locator('#filter').fill('no-such-run-anywhere');
  check((await visibleCount()) === 0, 'a word no row holds hides every row');
  await page.locator('#filter').fill('');
  check((await visibleCount()) === total, 'clearing the filter shows every row');

  // --- links
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
  check(hrefs.length === total, `one report link per row (${hrefs.length} links, ${total} rows)`);
  const missing = hrefs.filter((href) => !href.startsWith('file:') || !existsSync(fileURLToPath(href)));
  check(missing.length === 0, `every link resolves to an existing file${missing.length ? `: ${missing}` : ''}`);
  check(hrefs.every((h) => h.endsWith('/report.html')), 'every link is a run report');

  // --- the screenshot: sorted by roc_auc, best first
  await clickHeader('roc_auc');
  if ((await ariaSort(await columnIndex('roc_auc'))) !== 'descending') await clickHeader('roc_auc');
  await page.screenshot({ path: screenshotPath, fullPage: true });
  console.log(`screenshot: ${screenshotPath}`);

  const indexViolations = await page.evaluate(() => window.__cspViolations);
  check(indexViolations.length === 0, `no CSP violation on the index${indexViolations.length ? `: ${indexViolations}` : ''}`);

  // --- following a link opens the report
  await page.locator('#runs tbody tr a').first().click();
  await page.waitForLoadState('load');
  check(page.url().endsWith('/report.html'), `following a link opens ${page.url()}`);
  check((await page.locator('h1').count()) === 1, 'the report has its heading');

  const violations = await page.evaluate(() => window.__cspViolations);
  check(violations.length === 0, `no CSP violation on the report${violations.length ? `: ${violations}` : ''}`);
} catch (e) {
  check(false, `the check ran to its end (${e && e.stack ? e.stack : e})`);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

check(problems.length === 0, `no console error or warning, no page error${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`);
const network = requests.filter((url) => !url.startsWith('file:'));
check(network.length === 0, `no network request${network.length ? `: ${network}` : ''}`);

if (failures.length) {
  console.error(`check-index: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('check-index: every check passed');
