// lib.mjs — what the browser tests (search.test.mjs, graph.test.mjs) share: the environment run.sh
// sets (PROSPECT_BIN, CHROMIUM, BROWSER_OUT), playwright-core (exit 77 when it is missing), a
// scratch folder, the prospect binary run quietly, `prospect serve --port 0` started and stopped,
// headless chromium, pages whose errors are collected, check(), and runTest(), which runs a test's
// main and cleans up after it.
//
// Every server started here must end with exit 0 on SIGTERM: under the ASan tree that exit also
// reports leaks and bad accesses, so a server that ends otherwise fails the test.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const out = process.env.BROWSER_OUT || process.cwd();
const bin = process.env.PROSPECT_BIN;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!bin) {
  console.error('PROSPECT_BIN is not set');
  process.exit(1);
}

let chromium;
try {
  ({ chromium } = createRequire(path.join(out, 'package.json'))('playwright-core'));
} catch (e) {
  console.log('SKIP: playwright-core is not installed in ' + out + ': ' + e.message);
  process.exit(77);
}

// The test's scratch folder (removed by runTest).
export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prospect-browser-'));

let browser = null;
const servers = []; // started and not stopped yet

export function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

// Runs `prospect ARGS…` to the end, quietly (its stdout with {output: true}); throws on failure.
export function prospect(args, { output = false } = {}) {
  const env = { ...process.env, OMP_WAIT_POLICY: 'passive' };
  if (output) return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env }).trim();
  execFileSync(bin, args, { stdio: 'ignore', env });
  return null;
}

// Starts `prospect serve --port 0 ARGS…` (no embedding model: the lexical path) and resolves
// {proc, url, stderr(), exited} once it says where it listens.
export function startServer(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['serve', '--port', '0', '--embedder', path.join(tmp, 'no-model'), ...args],
      { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error('server did not start: ' + err)), 60000);
    p.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        const server = { proc: p, url: m[1], stderr: () => err, exited };
        servers.push(server);
        resolve(server);
      }
    });
    const exited = new Promise((done) => p.on('exit', (code, sig) => done(code === null ? sig : code)));
    exited.then((code) => reject(new Error('server exited with ' + code + ': ' + err)));
  });
}

// Sends SIGTERM and waits (30 s at most); throws unless the server ended with exit 0.
export async function stopServer(server) {
  const i = servers.indexOf(server);
  if (i >= 0) servers.splice(i, 1);
  server.proc.kill('SIGTERM');
  const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
  if (code === 'timeout') server.proc.kill('SIGKILL');
  if (code !== 0) throw new Error('the server ended with ' + code + ' after SIGTERM:\n' + server.stderr());
}

// Debian's chromium, headless (closed by runTest): a new browser context with these options
// (viewport, …) whose actions wait 15 s at the most.
export async function openBrowser(options) {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  const context = await browser.newContext(options);
  context.setDefaultTimeout(15000);
  return context;
}

// A new page of context whose script errors and console errors go to problems, each prefixed
// by label.
export async function watchedPage(context, problems, label = 'page') {
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(label + ' error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(label + ' console: ' + m.text()); });
  return page;
}

// Runs main(), then closes the browser, stops the servers still running and removes the scratch
// folder; exits 0 when all went well, else 1.
export async function runTest(name, main) {
  let failed = false;
  try {
    await main();
    console.log(name + ' passed; screenshots in ' + out);
  } catch (e) {
    failed = true;
    console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const server of [...servers]) {
      try {
        await stopServer(server);
      } catch (e) {
        failed = true;
        console.error('FAIL: ' + e.message);
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}
