// saved.test.mjs — the relationship manager's day on the search page (issue 15), in headless
// chromium: a 300-customer bank served with its database; then
//  1. a search, saved from the page under a name: it appears in the saved list;
//  2. two results marked 👍 and one 👎: the order changes and a removable "feedback" chip shows
//     (the chip's ✕ takes the feedback off again);
//  3. sorting by a column header: the column is in order (again: descending; # : the ranking);
//  4. "Export all N matches": the download holds every match (more than the rows shown), with
//     the query and the generation at the top;
//  5. 100 new customers imported beside the running server: reloading shows "N new customers
//     match “seniors”" with them;
//  6. after a restart of the server the saved search and its alert are still there.
// Exit: 0 passed, 1 failed, 77 skipped (playwright-core missing).
import fs from 'node:fs';
import path from 'node:path';
import { out, tmp, check, prospect, startServer, stopServer, openBrowser, watchedPage, runTest } from './lib.mjs';

const ids = (page) => page.$$eval('#tbody tr[data-id]', (trs) => trs.map((t) => t.dataset.id));

async function settled(page) {
  await page.waitForFunction(() => !document.getElementById('status').classList.contains('busy') &&
    document.querySelectorAll('#tbody tr[data-id]').length > 0);
}

async function main() {
  const db = path.join(tmp, 'bank.db');
  prospect(['generate', '--rows', '300', '--seed', '9', '--out', path.join(tmp, 'a.csv')]);
  prospect(['import', '--db', db, '--csv', path.join(tmp, 'a.csv')]);
  let server = await startServer(['--db', db]);
  const context = await openBrowser({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const problems = [];
  const page = await watchedPage(context, problems);
  const query = 'customers over 50';
  await page.goto(server.url + '/?q=' + encodeURIComponent(query));
  await settled(page);
  const first = await ids(page);
  check(first.length === 25, 'the search shows its 25 top results');
  check(problems.length === 0, 'the page loads without script errors: ' + problems.join('; '));
  check(await page.$('#tbody tr[data-id] .fb-up') !== null, 'each row has its thumbs');

  // 1. save it
  await page.fill('#save-name', 'seniors');
  await page.click('#save');
  await page.waitForSelector('#saved-list .saved-item');
  const names = await page.$$eval('#saved-list .saved-run', (b) => b.map((x) => x.textContent));
  check(names.includes('seniors'), 'the saved search is listed');
  check(/Saved “seniors”: \d+ customers match now/.test(await page.textContent('#status')),
    'the page says how many match now');

  // 2. two up, one down (each from the table as it is then): the order changes, the chip shows
  const rowButton = (id, kind) => '#tbody tr[data-id="' + id + '"] .' + kind;
  const up1 = first[20];
  await page.click(rowButton(up1, 'fb-up'));
  await page.waitForSelector('#feedback .chip.feedback');
  await settled(page);
  const up2 = (await ids(page)).filter((id) => id !== up1).pop();
  await page.click(rowButton(up2, 'fb-up'));
  await page.waitForFunction(() => /more like 2/.test(document.getElementById('feedback').textContent));
  await settled(page);
  const down = (await ids(page)).find((id) => id !== up1 && id !== up2);
  await page.click(rowButton(down, 'fb-down'));
  await page.waitForFunction(() => /fewer like 1/.test(document.getElementById('feedback').textContent));
  await settled(page);
  const after = await ids(page);
  check(after.join() !== first.join(), 'the feedback re-ranked the results');
  check(after.indexOf(up1) >= 0 && after.indexOf(up1) < 5 && after.indexOf(up2) >= 0 && after.indexOf(up2) < 5,
    'the two marked up lead (' + after.indexOf(up1) + ', ' + after.indexOf(up2) + ')');
  check(after.indexOf(down) !== 0, 'the one marked down is no longer first');
  check(!(await page.isHidden('#feedback-row')), 'the feedback chip is shown');
  await page.screenshot({ path: path.join(out, 'saved-feedback.png') });
  await page.click('#feedback .chip-x');
  await page.waitForFunction(() => document.getElementById('feedback-row').hidden);
  await settled(page);
  check((await ids(page)).join() === first.join(), 'removing the chip brings the ranking back');

  // 3. sort by a numeric column
  const col = await page.$eval('#thead th.num[data-column]', (th) => th.dataset.column);
  const colIndex = await page.$$eval('#thead th', (ths, c) => ths.findIndex((t) => t.dataset.column === c), col);
  const values = () => page.$$eval('#tbody tr[data-id]', (trs, i) =>
    trs.map((t) => Number(t.children[i].textContent.replace(/[$,%]/g, ''))), colIndex);
  await page.click('#thead th[data-column="' + col + '"]');
  let v = await values();
  check(v.every((x, i) => i === 0 || v[i - 1] <= x), 'sorted ascending by ' + col);
  await page.click('#thead th[data-column="' + col + '"]');
  v = await values();
  check(v.every((x, i) => i === 0 || v[i - 1] >= x), 'then descending');
  await page.click('#thead th.rank');
  check((await ids(page)).join() === first.join(), '# goes back to the ranking');

  // 4. export all matches
  const label = await page.textContent('#export-all');
  const n = Number(/Export all (\d+) matches/.exec(label)[1]);
  check(n > 25, 'the export offers all ' + n + ' matches');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-all')]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('rank,'));
  check(rows.length === n, 'the download holds every match (' + rows.length + ')');
  check(text.includes('# query: ' + query) && /# generation: 1\n/.test(text), 'with the query and the generation at the top');

  // 5. new customers: the alert
  prospect(['generate', '--rows', '400', '--seed', '9', '--out', path.join(tmp, 'b.csv')]);
  prospect(['import', '--db', db, '--csv', path.join(tmp, 'b.csv')]);
  await page.reload();
  await page.waitForSelector('#alerts .alert');
  const alertText = await page.textContent('#alerts .alert-text');
  check(/^\d+ new customers? match “seniors”$/.test(alertText), 'the alert: ' + alertText);
  const alertIds = await page.$$eval('#alerts .alert-ids button', (b) => b.map((x) => x.textContent));
  check(alertIds.length > 0 && alertIds.every((id) => id > 'CUST-000300'), 'it lists the new customers');
  await page.screenshot({ path: path.join(out, 'saved-alert.png') });

  // 6. a restart keeps it all
  await stopServer(server);
  server = await startServer(['--db', db]);
  await page.goto(server.url + '/');
  await page.waitForSelector('#saved-list .saved-item');
  await page.waitForSelector('#alerts .alert');
  check(true, 'after a restart the saved search and its alert are still there');
  check(problems.length === 0, 'no script errors: ' + problems.join('; '));
}

runTest('saved.test.mjs', main);
