// search.test.mjs — the search page (GET /) and the API page (/docs) in headless chromium.
//
// Generates a 300-customer bank, imports it, starts `prospect serve --port 0` (lexical path: no
// model; the server, chromium and the clean-up come from lib.mjs), then with playwright-core
// driving Debian's chromium:
//  1. the page's answer carries its Content-Security-Policy and HTML type, and draws no errors;
//  2. a sample chip searches: result rows and filter chips appear, every row passes the filters;
//  3. removing a chip re-runs the query without its words (the box shows the new query) and
//     the remaining filter still holds for every row;
//  4. a query with non-ASCII text before a chip: the cut uses UTF-8 byte spans correctly;
//  5. keyboard: "/" focuses the box, ↓ reaches the rows, Enter opens the customer panel,
//     "Find similar customers" lists look-alikes, Escape closes the panel;
//  6. CSV export downloads one line per result plus a header;
//  7. a server started with --require-keys answers 401: the page asks for the key (a real one
//     from `prospect keys create`), then sends it as a Bearer and shows results;
//  8. /docs lists the API and its "try it" form gets a 200 from /api/search;
//  9. /models draws the newest model's numbers, confusion matrix, SHAP bars and dependence plot.
// Screenshots go to $BROWSER_OUT (search.png, search-tablet.png, docs.png, models.png).
// Exit: 0 passed, 1 failed, 77 skipped (playwright-core missing).
import fs from 'node:fs';
import path from 'node:path';
import { out, tmp, check, prospect, startServer, stopServer, openBrowser, watchedPage, runTest } from './lib.mjs';

// Filter chips' texts, in order.
const chipTexts = (page, kind) => page.$$eval('#plan .chip.' + kind + ' .chip-text', (els) => els.map((e) => e.textContent));

// The table's column (by header label) as numbers, one per result row.
async function columnNumbers(page, label) {
  return page.evaluate((want) => {
    const heads = [...document.querySelectorAll('#thead th')].map((th) => th.textContent);
    const i = heads.indexOf(want);
    if (i < 0) return null;
    return [...document.querySelectorAll('#tbody tr[data-id]')].map((tr) =>
      Number(tr.children[i].textContent.replace(/[$,%]/g, '')));
  }, label);
}

async function waitForAnswer(page, query) {
  await page.waitForFunction((q) => document.getElementById('q').value === q &&
    !document.getElementById('status').classList.contains('busy') &&
    document.querySelectorAll('#tbody tr').length > 0, query);
}

async function main() {
  const csv = path.join(tmp, 'bank.csv');
  const db = path.join(tmp, 'bank.db');
  prospect(['generate', '--rows', '300', '--seed', '7', '--out', csv]);
  prospect(['import', '--db', db, '--csv', csv]);
  // a propensity model on the same rows, for the Models page (9.)
  const reg = path.join(tmp, 'registry');
  prospect(['train', '--csv', csv, '--target', 'digital_user', '--name', 'digital', '--registry', reg, '--folds', '3']);
  const base = (await startServer(['--db', db, '--registry', reg, '--propensity-data', csv])).url;

  const context = await openBrowser({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const problems = [];
  const page = await watchedPage(context, problems);

  // 1. the page itself
  const resp = await page.goto(base + '/');
  check(resp.status() === 200, 'GET / answers 200');
  check(/^text\/html; charset=utf-8/.test(resp.headers()['content-type']), 'GET / is text/html; charset=utf-8');
  check(/default-src 'none'/.test(resp.headers()['content-security-policy'] || ''), 'GET / carries a Content-Security-Policy');
  check(resp.headers()['x-content-type-options'] === 'nosniff', 'GET / carries X-Content-Type-Options: nosniff');
  await page.waitForSelector('body.ready');
  check(await page.isVisible('#dense-note'), 'the page says semantic search is off (no model)');
  const samples = await page.$$eval('#samples button', (els) => els.map((e) => e.textContent));
  check(samples.length >= 5, 'sample queries are shown as chips (' + samples.length + ')');

  // 2. a sample query with two filters
  const sample = 'customers under 35 with income over $100k';
  check(samples.includes(sample), 'the sample "' + sample + '" is there');
  await page.click('#samples button:has-text("' + sample + '")');
  await waitForAnswer(page, sample);
  const rows1 = await page.$$eval('#tbody tr[data-id]', (els) => els.map((e) => e.dataset.id));
  let filters = await chipTexts(page, 'filter');
  check(rows1.length > 0, 'results appear (' + rows1.length + ' rows)');
  check(filters.length === 2 && filters.some((t) => /^Age/.test(t)) && filters.some((t) => /^Annual income/.test(t)),
    'two filter chips appear: ' + JSON.stringify(filters));
  let ages = await columnNumbers(page, 'Age');
  const incomes = await columnNumbers(page, 'Annual income');
  check(ages && ages.every((a) => a < 35), 'every row is under 35');
  check(incomes && incomes.every((v) => v > 100000), 'every row has an income over $100,000');
  // filters alone rank nothing: the page says so instead of presenting id order as a ranking
  const note1 = await page.textContent('#order-note');
  check(/^unranked — \d+ customers? match the filters, in import order$/.test(note1),
    'a filters-only answer says it is unranked: ' + JSON.stringify(note1));
  // why each result matched: a line under each row, from the answer's "why" (text nodes only)
  const why1 = await page.$$eval('#tbody tr.why-row td.why', (els) => els.map((e) => e.textContent));
  check(why1.length === rows1.length && why1.every((t) => /^Why: /.test(t) && /Age \d+ < 35/.test(t) &&
    /Annual income \d+/.test(t)), 'a why line under each result names both filters: ' + JSON.stringify(why1[0]));
  check(await page.$$eval('#tbody td.why', (els) => els.every((e) => e.children.length === 1 &&
    e.children[0].className === 'why-label')), 'the why line is text, not markup');
  const status1 = await page.textContent('#status');
  const cand1 = Number(/^(\d+)/.exec(status1)[1]);

  // 3. remove the income chip: the query loses its words and runs again
  await page.click('#plan .chip.filter:has-text("Annual income") .chip-x');
  await waitForAnswer(page, 'customers under 35');
  filters = await chipTexts(page, 'filter');
  check(filters.length === 1 && /^Age/.test(filters[0]), 'after removing a chip one filter chip is left: ' + JSON.stringify(filters));
  const cand2 = Number(/^(\d+)/.exec(await page.textContent('#status'))[1]);
  check(cand2 > cand1, 'the search widened (' + cand1 + ' -> ' + cand2 + ' candidates)');
  ages = await columnNumbers(page, 'Age');
  check(ages && ages.length > 0 && ages.every((a) => a < 35), 'every row still is under 35');
  check(new URL(page.url()).searchParams.get('q') === 'customers under 35', 'the address keeps the query');

  // 4. UTF-8 spans: multi-byte text before the chip
  const utf = 'café clients under 35 with income over $100k';
  await page.fill('#q', utf);
  await page.press('#q', 'Enter');
  await waitForAnswer(page, utf);
  await page.click('#plan .chip.filter:has-text("Annual income") .chip-x');
  await waitForAnswer(page, 'café clients under 35');
  check(true, 'a chip after non-ASCII text is cut at the right characters');

  // 4b. a number no column is named for is shown as not understood, not applied silently
  const vague = 'clients under 35 with over $250k';
  await page.fill('#q', vague);
  await page.press('#q', 'Enter');
  await waitForAnswer(page, vague);
  check(await page.isVisible('#unknown-row'), 'the "Not understood" line is shown');
  const unknown = await page.$eval('#unknown', (e) => e.textContent);
  check(/over \$250k/.test(unknown) && /no column/.test(unknown), 'it names the span and why: ' + unknown);
  filters = await chipTexts(page, 'filter');
  check(!filters.some((t) => /income/i.test(t)), 'no income filter was guessed: ' + JSON.stringify(filters));
  check(await page.isVisible('#readings-row'), 'the reading of "under 35" as an age is shown');

  // back to the first query for the rest
  await page.click('#samples button:has-text("' + sample + '")');
  await waitForAnswer(page, sample);

  // 5. keyboard: "/" focuses the box, ↓ goes to the rows, Enter opens the panel
  await page.click('#results-title');
  await page.keyboard.press('/');
  check(await page.evaluate(() => document.activeElement.id === 'q'), '"/" focuses the search box');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const focused = await page.evaluate(() => document.activeElement.dataset.id);
  check(focused === rows1[1], 'arrow keys move through the rows');
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => document.getElementById('detail-title').textContent === id &&
    document.querySelectorAll('#detail-fields dt').length > 0, focused);
  const fields = await page.$$eval('#detail-fields .field', (els) => els.length);
  check(fields >= 10, 'Enter opens the customer panel with its fields (' + fields + ')');
  check(await page.$eval('#detail-fields', (d) => d.querySelectorAll('.touched').length) === 2,
    'the panel marks the fields the filters touched');
  const panelWhy = await page.$$eval('#detail-why:not([hidden]) li', (els) => els.map((e) => e.textContent));
  check(panelWhy.length === 2 && /^Age \d+ < 35$/.test(panelWhy[0]) && /^Annual income /.test(panelWhy[1]),
    'the panel says why the customer matched: ' + JSON.stringify(panelWhy));

  // 6. CSV export
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const csvText = fs.readFileSync(await download.path(), 'utf8');
  const lines = csvText.replace(/^\ufeff/, '').trim().split('\r\n');
  check(lines.length === rows1.length + 1 && /^rank,customer_id,score,/.test(lines[0]),
    'CSV export has a header and one line per result (' + (lines.length - 1) + ')');
  check(lines[1].split(',')[1] === rows1[0], 'the CSV lists the results in order');

  // find similar, then Escape closes the panel
  await page.click('#similar');
  await page.waitForFunction((id) => document.getElementById('results-title').textContent.includes('Customers like ' + id), focused);
  const simRows = await page.$$eval('#tbody tr[data-id]', (els) => els.map((e) => e.dataset.id));
  check(simRows.length > 0 && !simRows.includes(focused), '"Find similar customers" lists other customers (' + simRows.length + ')');
  check(await page.isHidden('#plan'), 'the query plan is hidden while showing look-alikes');
  const shares = await page.$$eval('#tbody tr.why-row td.why', (els) => els.map((e) => e.textContent));
  check(shares.length > 0 && shares.every((t) => /^Shares: ./.test(t)),
    'each look-alike says what it shares with the customer: ' + JSON.stringify(shares[0]));
  await page.keyboard.press('Escape');
  check(await page.isHidden('#detail'), 'Escape closes the customer panel');

  // a sample with a filter, a boost and free text: chips of both kinds, score bars
  const mixed = samples.find((q) => /children in college/.test(q));
  await page.click('#samples button:has-text("' + mixed + '")');
  await waitForAnswer(page, mixed);
  check((await chipTexts(page, 'filter')).length >= 1 && (await chipTexts(page, 'boost')).length >= 1,
    'a query with soft words shows filter and boost chips');
  check(await page.$$eval('#tbody .bar .fill', (els) => els.length > 0), 'ranked results show score bars');
  const note2 = await page.textContent('#order-note');
  check(/^Ranked by boosts/.test(note2), 'a ranked answer says what ranked it: ' + JSON.stringify(note2));
  check(await page.$$eval('#tbody tr.why-row td.why', (els) => els.some((e) => /Children in college/.test(e.textContent))),
    'the why lines name the filter on children in college');
  await page.click('#tbody tr[data-id]');
  await page.waitForSelector('#detail-fields dt');
  await page.screenshot({ path: path.join(out, 'search.png') });
  console.log('screenshot: ' + path.join(out, 'search.png'));
  await page.keyboard.press('Escape');

  // tablet width: the panel slides over the results
  await page.setViewportSize({ width: 820, height: 1100 });
  await page.click('#tbody tr[data-id]');
  await page.waitForSelector('#detail-fields dt');
  await page.screenshot({ path: path.join(out, 'search-tablet.png') });
  await page.keyboard.press('Escape');
  check(problems.length === 0, 'no page errors or console errors: ' + JSON.stringify(problems));

  // 7. a server that requires API keys answers 401; the page asks for the key, then sends it
  //    as a Bearer token on every call (a real key, made with `prospect keys create`)
  const token = prospect(['keys', 'create', '--db', db, '--name', 'browser-test'], { output: true });
  const locked = await startServer(['--db', db, '--require-keys']);
  try {
    const authPage = await context.newPage();
    const seen = [];
    authPage.on('request', (req) => {
      if (/\/api\//.test(req.url())) seen.push(req.headers().authorization || '');
    });
    await authPage.goto(locked.url + '/');
    await authPage.waitForSelector('#auth:not([hidden])');
    check(true, 'a 401 from a server that requires keys brings up the API key form');
    await authPage.fill('#auth-key', token);
    await authPage.press('#auth-key', 'Enter');
    await authPage.waitForSelector('body.ready');
    await authPage.click('#samples button >> nth=0');
    await authPage.waitForSelector('#tbody tr[data-id]');
    check(seen.filter((h) => h === 'Bearer ' + token).length >= 2, 'the key is sent as Authorization: Bearer');
    check(await authPage.evaluate(() => sessionStorage.getItem('prospect.apiKey')) === token,
      'the key is kept in sessionStorage');
    await authPage.close();
  } finally {
    await stopServer(locked);
  }

  // 8. /docs
  const docs = await context.newPage();
  await docs.setViewportSize({ width: 1280, height: 1000 });
  const dresp = await docs.goto(base + '/docs');
  check(dresp.status() === 200 && /text\/html/.test(dresp.headers()['content-type']), 'GET /docs is an HTML page');
  await docs.waitForSelector('#get-api-search[open]');
  const paths = await docs.$$eval('.op .path', (els) => els.map((e) => e.textContent));
  check(paths.includes('/api/search') && paths.includes('/invocations') && !paths.includes('/'),
    '/docs lists the API routes and not the pages (' + paths.length + ' operations)');
  await docs.click('#get-api-search button[type=submit]');
  await docs.waitForSelector('#get-api-search pre.reply:not([hidden])');
  const head = await docs.textContent('#get-api-search .reply-head[aria-live]');
  const body = JSON.parse(await docs.textContent('#get-api-search pre.reply'));
  check(/^200/.test(head) && Array.isArray(body.results) && body.filters.length === 1, '"try it" gets a 200 from /api/search');
  await docs.click('#post-invocations summary');
  await docs.click('#post-invocations button[type=submit]');
  await docs.waitForSelector('#post-invocations pre.reply:not([hidden])');
  check(/^200/.test(await docs.textContent('#post-invocations .reply-head[aria-live]')), '"try it" posts to /invocations');
  await docs.screenshot({ path: path.join(out, 'docs.png') });

  // 9. /models: the run's numbers, the confusion matrix, the SHAP bars, a dependence plot that
  // follows the feature picker, and the potential list
  const models = await watchedPage(context, problems, 'models page');
  await models.setViewportSize({ width: 1440, height: 1100 });
  const mresp = await models.goto(base + '/models');
  check(mresp.status() === 200 && /default-src 'none'/.test(mresp.headers()['content-security-policy'] || ''),
    'GET /models is a page under the CSP');
  await models.waitForSelector('#m-dep svg circle');
  check(/^digital · version 1/.test(await models.textContent('#m-title')), 'the Models page shows the newest model');
  const stats = await models.$$eval('#m-stats .stat-l', (els) => els.map((e) => e.textContent));
  check(stats.includes('Precision at threshold') && stats.includes('Recall at threshold'), 'precision and recall at the threshold are shown');
  const cells = await models.$$eval('#m-cm svg text.big', (els) => els.map((e) => Number(e.textContent)));
  const run = await (await fetch(base + '/api/models/digital@1')).json();
  const cm = run.metrics.test.confusion;
  check(JSON.stringify(cells) === JSON.stringify([cm.tp, cm.fn, cm.fp, cm.tn]), 'the confusion matrix matches the run record: ' + cells);
  const bars = await models.$$eval('#m-shap svg rect.shap-bar', (els) => els.map((e) => Number(e.getAttribute('width'))));
  check(bars.length > 1 && bars.every((w, i) => i === 0 || w <= bars[i - 1] + 1e-9), 'SHAP bars are drawn largest first (' + bars.length + ')');
  const dots = await models.$$eval('#m-dep svg circle', (els) => els.length);
  check(dots > 100, 'the dependence plot has a dot per customer (' + dots + ')');
  const feats = await models.$$eval('#m-feature option', (els) => els.map((e) => e.value));
  await models.selectOption('#m-feature', feats[1]);
  await models.waitForFunction((f) => {
    const t = document.querySelectorAll('#m-dep svg text');
    return t.length > 0 && t[t.length - 2].textContent === f;
  }, feats[1]);
  check(true, 'picking another feature redraws the dependence plot');
  await models.selectOption('#m-feature', feats[0]);
  await models.waitForFunction((f) => {
    const t = document.querySelectorAll('#m-dep svg text');
    return t.length > 0 && t[t.length - 2].textContent === f;
  }, feats[0]);
  const pot = await models.$$eval('#m-potential tr', (els) => els.length);
  check(/threshold/.test(await models.textContent('#m-potential-count')), 'the potential list says what it holds (' + pot + ' rows)');
  await models.screenshot({ path: path.join(out, 'models.png'), fullPage: true });
  console.log('screenshot: ' + path.join(out, 'models.png'));
  check(problems.length === 0, 'no page errors: ' + problems.join('; '));
}

await runTest('browser test', main);
