// What the browser tests share: a gatehoused in a temporary data directory, Debian's chromium
// through playwright-core (no browser download), and polling helpers that the web client's
// CSP allows (page.waitForFunction evaluates strings, which the CSP rightly forbids).
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const freePort = () => new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
});

export async function until(check, timeoutMs = 10000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) {
    if (await check()) return;
  }
  throw new Error(`timed out: ${check}`);
}

/// Starts `gatehoused serve` with `config` (listen and secret_store are filled in), after
/// `prepare(cli)` ran its commands on the data directory (users, clients).
export async function startGatehoused(gatehoused, config, prepare) {
  const data = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  writeFileSync(join(data, 'gatehouse.json'), JSON.stringify({ listen: `127.0.0.1:${port}`, secret_store: 'file', ...config }));
  const cli = (args, input = '') => {
    const result = spawnSync(gatehoused, [...args, '--data-dir', data], { input, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  };
  await prepare(cli);
  const adminToken = cli(['admin-token', 'show']);
  const server = spawn(gatehoused, ['serve', '--data-dir', data], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); ++i) await sleep(100);
  return {
    base, adminToken,
    stop() { server.kill(); rmSync(data, { recursive: true, force: true }); },
  };
}

export function launchChromium() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

/// Logs into the demo web client at `base` and waits for its WebSocket.
export async function loginToWebClient(page, base, username, password) {
  await page.goto(`${base}/`);
  await until(() => page.evaluate(() => navigator.serviceWorker?.controller != null));
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#session-view:not([hidden])');
  await until(async () => (await page.textContent('#connection')) === 'live');
}
