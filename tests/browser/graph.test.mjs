// graph.test.mjs — the Graph page (/graph) and the customer panel's recommendations in headless
// chromium.
//
// Generates a small wholesale book (`prospect generate --kind wholesale`), imports its
// customers.csv, runs `prospect segment` and `prospect recommend train`, starts
// `prospect serve --recommender recommender --wholesale DIR` (the server, chromium and the clean-up
// come from lib.mjs), then with playwright-core:
//  1. /graph answers with its CSP; customer and product nodes and the links between them render,
//     with the labels ("Customer CUS-… (type, industry)", "Product PROD-… (type, …)");
//  2. hovering a link shows its transaction type; the wheel zooms (the view's transform scale
//     grows), dragging the background pans, dragging a node moves it;
//  3. the segment filter leaves fewer customers, all of that segment; the manager filter too;
//  4. the segment chart has one bar per segment, with its traits;
//  5. the search page's customer panel lists recommended products, none of them already held
//     (checked against the customer's neighbourhood from /api/graph).
// Screenshots go to $BROWSER_OUT (graph.png, recommendations.png).
// Exit: 0 passed, 1 failed, 77 skipped (playwright-core missing).
import path from 'node:path';
import { out, tmp, check, prospect, startServer, openBrowser, watchedPage, runTest } from './lib.mjs';

const scaleOf = (t) => Number((/scale\(([-\d.e]+)\)/.exec(t || '') || [])[1]);
const translateOf = (t) => (/translate\(([-\d.e]+),([-\d.e]+)\)/.exec(t || '') || []).slice(1).map(Number);

async function customers(page) {
  return page.$$eval('#g-nodes .g-node.cust', (els) => els.map((e) => e.dataset.id));
}
async function waitGraph(page, before) {
  await page.waitForFunction((b) => {
    const s = document.getElementById('status');
    return s && !s.classList.contains('busy') && document.body.dataset.layout &&
      document.getElementById('g-meta').textContent !== b;
  }, before);
}

async function main() {
  const wh = path.join(tmp, 'wholesale');
  const db = path.join(tmp, 'book.db');
  const reg = path.join(tmp, 'registry');
  prospect(['generate', '--kind', 'wholesale', '--customers', '200', '--products', '40', '--transactions', '2500',
    '--seed', '11', '--out', wh]);
  prospect(['import', '--db', db, '--csv', path.join(wh, 'customers.csv')]);
  prospect(['segment', '--db', db, '--k', '4']);
  prospect(['recommend', 'train', '--data', wh, '--registry', reg, '--epochs', '20', '--threads', '1']);
  const base = (await startServer(['--db', db, '--registry', reg, '--recommender', 'recommender', '--wholesale', wh])).url;

  const context = await openBrowser({ viewport: { width: 1440, height: 960 } });
  const problems = [];
  const page = await watchedPage(context, problems);

  // 1. the page and the graph
  const resp = await page.goto(base + '/graph');
  check(resp.status() === 200, 'GET /graph answers 200');
  check(/default-src 'none'/.test(resp.headers()['content-security-policy'] || ''), '/graph carries a Content-Security-Policy');
  await waitGraph(page, '');
  const all = await customers(page);
  const nProducts = await page.$$eval('#g-nodes .g-node.prod', (els) => els.length);
  const nEdges = await page.$$eval('#g-edges line', (els) => els.length);
  check(all.length === 40, 'the graph shows the 40 largest customers (' + all.length + ')');
  check(nProducts > 0 && nEdges >= all.length, nProducts + ' products and ' + nEdges + ' links render');
  const cLabel = await page.textContent('#g-nodes .g-node.cust title');
  const pLabel = await page.textContent('#g-nodes .g-node.prod title');
  check(/^Customer CUS-\d+ \([A-Za-z ]+, [A-Za-z &]+\)$/.test(cLabel), 'customer label: ' + cLabel);
  check(/^Product PROD-\d+ \([A-Za-z ]+, [A-Za-z &]+\)$/.test(pLabel), 'product label: ' + pLabel);
  const edgeTitle = await page.textContent('#g-edges line title');
  check(/^[A-Z][A-Za-z ]+ · \d+ transactions? · /.test(edgeTitle), 'links are labelled by transaction type: ' + edgeTitle);
  await page.waitForFunction(() => document.body.dataset.layout === 'done', null, { timeout: 20000 });
  check(await page.isVisible('#g-legend'), 'a legend is shown');

  // 2. hover, zoom, pan, drag
  const line = await page.$('#g-edges line');
  const lb = await line.boundingBox();
  await line.dispatchEvent('pointerenter', { clientX: lb.x + lb.width / 2, clientY: lb.y + lb.height / 2 });
  check(await page.isVisible('#g-tip'), 'hovering a link shows a tooltip');
  check((await page.textContent('#g-tip')).startsWith(edgeTitle), 'the tooltip names the transaction type');
  await line.dispatchEvent('pointerleave');
  const t0 = await page.getAttribute('#g-view', 'transform');
  const sb = await (await page.$('#g-svg')).boundingBox();
  await page.mouse.move(sb.x + 30, sb.y + 30);
  await page.mouse.wheel(0, -400);
  await page.waitForFunction((t) => document.getElementById('g-view').getAttribute('transform') !== t, t0);
  const t1 = await page.getAttribute('#g-view', 'transform');
  check(scaleOf(t1) > scaleOf(t0), 'the wheel zooms in (scale ' + scaleOf(t0).toFixed(3) + ' → ' + scaleOf(t1).toFixed(3) + ')');
  await page.mouse.move(sb.x + 12, sb.y + 12);
  await page.mouse.down();
  await page.mouse.move(sb.x + 92, sb.y + 52, { steps: 4 });
  await page.mouse.up();
  const t2 = await page.getAttribute('#g-view', 'transform');
  const [x1, y1] = translateOf(t1), [x2, y2] = translateOf(t2);
  check(Math.abs(x2 - x1 - 80) < 2 && Math.abs(y2 - y1 - 40) < 2, 'dragging the background pans the view');
  await page.click('#g-fit');
  const node = await page.$('#g-nodes .g-node.cust');
  const before = await node.getAttribute('transform');
  const nb = await node.boundingBox();
  await page.mouse.move(nb.x + nb.width / 2, nb.y + nb.height / 2);
  await page.mouse.down();
  await page.mouse.move(nb.x + nb.width / 2 + 60, nb.y + nb.height / 2 + 40, { steps: 5 });
  await page.mouse.up();
  check((await node.getAttribute('transform')) !== before, 'dragging a node moves it');

  // 3. filters
  const segs = await page.$$eval('#g-segment option', (els) => els.map((e) => e.value).filter(Boolean));
  check(segs.length === 4, 'the segment filter offers the 4 segments');
  let meta = await page.textContent('#g-meta');
  await page.selectOption('#g-limit', '150');
  await waitGraph(page, meta);
  const wide = await customers(page);
  check(wide.length === 150, 'the graph widens to 150 customers');
  meta = await page.textContent('#g-meta');
  await page.selectOption('#g-segment', '2');
  await waitGraph(page, meta);
  const seg2 = await customers(page);
  const api = async (p) => (await page.request.get(base + p)).json();
  const g2 = await api('/api/graph?segment=2&limit=150');
  check(seg2.length > 0 && seg2.length < wide.length, 'the segment filter leaves fewer customers (' + seg2.length + ' of ' + wide.length + ')');
  check(g2.nodes.filter((n) => n.kind === 'customer').every((n) => n.segment === 2), 'every customer shown is in segment 2');
  const rms = await page.$$eval('#g-rm option', (els) => els.map((e) => e.value).filter(Boolean));
  check(rms.length > 1, 'the manager filter offers ' + rms.length + ' relationship managers');
  meta = await page.textContent('#g-meta');
  await page.selectOption('#g-segment', '');
  await page.waitForFunction((b) => document.getElementById('g-meta').textContent !== b, meta);
  meta = await page.textContent('#g-meta');
  await page.selectOption('#g-rm', rms[0]);
  await waitGraph(page, meta);
  const byRm = await customers(page);
  check(byRm.length > 0 && byRm.length < wide.length, 'the manager filter leaves ' + byRm.length + ' customers of ' + rms[0]);
  meta = await page.textContent('#g-meta');
  await page.selectOption('#g-rm', '');
  await waitGraph(page, meta);
  meta = await page.textContent('#g-meta');
  await page.selectOption('#g-limit', '40');
  await waitGraph(page, meta);

  // 4. the segment chart
  const bars = await page.$$('#g-segchart .g-seg');
  check(bars.length === 4, 'the segment chart has a bar per segment');
  const traits = await page.$$eval('#g-segchart .g-seg-traits li', (els) => els.length);
  check(traits >= 4, 'each segment lists what sets it apart (' + traits + ' traits)');
  await page.waitForFunction(() => document.body.dataset.layout === 'done', null, { timeout: 20000 });
  await page.click('#g-fit');
  const first = await page.$('#g-nodes .g-node.cust');
  await first.click();
  check(await page.isVisible('#g-selected .g-sel-title'), 'clicking a customer shows its links');
  await page.mouse.move(5, 5);
  await page.screenshot({ path: path.join(out, 'graph.png') });
  console.log('screenshot: ' + path.join(out, 'graph.png'));

  // 5. recommendations in the customer panel
  const cust = all[0];
  const held = new Set();
  const nb0 = await api('/api/graph?customer=' + encodeURIComponent(cust) + '&limit=1');
  for (const e of nb0.edges) held.add(nb0.nodes[e.target].id);
  check(held.size > 0, cust + ' holds ' + held.size + ' products');
  const sp = await watchedPage(context, problems, 'search page');
  await sp.goto(base + '/?q=' + encodeURIComponent(cust));
  await sp.waitForSelector('#tbody tr[data-id]');
  await sp.click('#tbody tr[data-id="' + cust + '"]');
  await sp.waitForSelector('#recs-list li[data-product]');
  const recs = await sp.$$eval('#recs-list li[data-product]', (els) => els.map((e) => e.dataset.product));
  check(recs.length === 5, 'the customer panel lists 5 recommended products');
  check(recs.every((p) => !held.has(p)), 'none of them is already held (' + recs.join(', ') + ')');
  check(/recommender\/1/.test(await sp.textContent('#recs-model')), 'the panel names the model');
  await sp.screenshot({ path: path.join(out, 'recommendations.png') });
  console.log('screenshot: ' + path.join(out, 'recommendations.png'));
  check(problems.length === 0, 'no page errors: ' + problems.join('; '));
}

await runTest('graph browser test', main);
