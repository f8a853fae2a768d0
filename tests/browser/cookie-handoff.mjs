// The 2-Cookie Handoff in a real browser: Debian's chromium, driven by playwright-core, against
// a gatehoused started here with a 5-second session cookie. Usage: node cookie-handoff.mjs GATEHOUSED
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const gatehoused = process.argv[2];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const freePort = () => new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
});

const data = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
writeFileSync(join(data, 'gatehouse.json'), JSON.stringify({ listen: `127.0.0.1:${port}`, secret_store: 'file', session_cookie_ttl: 5 }));
const cli = (...args) => {
  const result = spawnSync(gatehoused, [...args, '--data-dir', data], { input: 'correct horse battery\n', encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
};
cli('user', 'add', 'alice', '--password-stdin');
const adminToken = cli('admin-token', 'show');
const server = spawn(gatehoused, ['serve', '--data-dir', data], { stdio: 'ignore' });
let browser;

async function metric(name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? NaN);
}

// page.waitForFunction evaluates strings, which the client's CSP forbids (rightly): poll instead.
async function until(check, timeoutMs = 10000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) {
    if (await check()) return;
  }
  throw new Error(`timed out: ${check}`);
}

async function loginIn(page) {
  await page.goto(`${base}/`);
  await until(() => page.evaluate(() => navigator.serviceWorker?.controller != null));
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery');
  await page.click('button[type=submit]');
  await page.waitForSelector('#session-view:not([hidden])');
  await until(async () => (await page.textContent('#connection')) === 'live');
}

try {
  for (let i = 0; i < 100 && !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); ++i) await sleep(100);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });

  // 1. Login; the service worker controls the page; the page keeps working across several
  //    5-second session cookies, with exactly one refresh for each.
  const context = await browser.newContext();
  const page = await context.newPage();
  const failures = [];
  page.on('pageerror', (error) => failures.push(String(error)));
  await loginIn(page);
  assert.equal(await page.textContent('#user'), 'alice');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'gh_session');
  const refresh = cookies.find((c) => c.name === 'gh_refresh');
  assert.ok(session?.httpOnly && session.sameSite === 'Strict' && session.path === '/', JSON.stringify(session));
  assert.ok(refresh?.httpOnly && refresh.path === '/auth/refresh', JSON.stringify(refresh));
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie is readable by scripts');
  const refreshesBefore = await metric('gatehouse_refreshes_total');
  const started = Date.now();
  await sleep(14500);
  const elapsed = (Date.now() - started) / 1000;
  const refreshes = (await metric('gatehouse_refreshes_total')) - refreshesBefore;
  const seenByPage = Number(await page.textContent('#refreshes'));
  console.log(`${refreshes} refreshes in ${elapsed.toFixed(1)} s with a 5 s session cookie; the page saw ${seenByPage}`);
  assert.ok(await page.isVisible('#session-view'), 'still logged in');
  assert.equal(await page.textContent('#connection'), 'live');
  // One refresh per cookie lifetime (renewed a second early, so every 4 s): never two for one.
  assert.equal(refreshes, seenByPage, 'every refresh went through the worker, one at a time');
  assert.ok(refreshes >= Math.floor(elapsed / 5) && refreshes <= Math.ceil(elapsed / 4), `${refreshes} refreshes`);
  const me = await page.evaluate(async () => (await fetch('/api/me')).status);
  assert.equal(me, 200);

  // 2. Replaying the first refresh cookie, long since rotated, is reuse: the session is revoked,
  //    its WebSocket closes with 4003, and the page says it is logged out.
  const replay = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { Cookie: `gh_refresh=${refresh.value}` } });
  assert.equal(replay.status, 401);
  await page.waitForSelector('#login-view:not([hidden])', { timeout: 10000 });
  assert.match(await page.textContent('#logged-out-reason'), /revoked/);
  assert.equal(await metric('gatehouse_refresh_reuse_total'), 1);

  // 3. An admin's revocation: the WebSocket closes with 4003 and the page shows why.
  await loginIn(page);
  const revoked = await fetch(`${base}/admin/users/alice/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${adminToken}` } });
  assert.equal(revoked.status, 200);
  await page.waitForSelector('#login-view:not([hidden])', { timeout: 10000 });
  assert.match(await page.textContent('#logged-out-reason'), /the session was revoked/);
  // … and the next refresh fails too.
  assert.equal((await fetch(`${base}/auth/refresh`, { method: 'POST',
    headers: { Cookie: `gh_refresh=${(await context.cookies()).find((c) => c.name === 'gh_refresh')?.value ?? 'none'}` } })).status, 401);

  // 4. Log out everywhere from the page.
  await loginIn(page);
  await page.click('#logout-everywhere');
  await page.waitForSelector('#login-view:not([hidden])');
  assert.match(await page.textContent('#logged-out-reason'), /every device/);
  assert.equal((await context.cookies()).filter((c) => c.name.startsWith('gh_')).length, 0, 'cookies cleared');
  assert.deepEqual(failures, []);
  console.log('ok: 2-Cookie Handoff in chromium');
} finally {
  await browser?.close();
  server.kill();
  rmSync(data, { recursive: true, force: true });
}
