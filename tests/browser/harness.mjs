// What the browser tests share: a gatehoused in a temporary data directory, Debian's chromium
// through playwright-core (no browser download), and polling helpers that the web client's
// CSP allows (page.waitForFunction evaluates strings, which the CSP rightly forbids).
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// With GATEHOUSE_TLS=1 the tests run over HTTPS: a P-256 certificate made here for localhost,
/// served by gatehoused (`tls` in its config), trusted by this process's fetch through
/// NODE_EXTRA_CA_CERTS (read at start, so the script runs itself again with it set) and by
/// chromium through its SPKI hash, never by ignoring certificate errors.
export const tls = process.env.GATEHOUSE_TLS === '1';
/// The cookies' names as the browser keeps them: __Host- and __Secure- prefixed over TLS.
export const cookieName = (name) => (!tls ? name : name === 'gh_refresh' ? '__Secure-gh_refresh' : `__Host-${name}`);
if (tls && !process.env.GATEHOUSE_TLS_DIR) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  // Beside any extra authorities the machine already gives Node.
  const extra = process.env.NODE_EXTRA_CA_CERTS ? readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8') + '\n' : '';
  writeFileSync(join(dir, 'trusted.pem'), extra + readFileSync(join(dir, 'cert.pem'), 'utf8'));
  const again = spawnSync(process.execPath, process.argv.slice(1), { stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'trusted.pem'), GATEHOUSE_TLS_DIR: dir } });
  rmSync(dir, { recursive: true, force: true });
  process.exit(again.status ?? 1);
}
const tlsDir = process.env.GATEHOUSE_TLS_DIR;
/// Chromium's --ignore-certificate-errors-spki-list takes the base64 SHA-256 of the key.
const spkiHash = () => createHash('sha256')
  .update(new X509Certificate(readFileSync(join(tlsDir, 'cert.pem'))).publicKey.export({ type: 'spki', format: 'der' }))
  .digest('base64');

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
  const base = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const transport = tls ? { tls: { certificate: join(tlsDir, 'cert.pem'), private_key: join(tlsDir, 'key.pem') } } : {};
  writeFileSync(join(data, 'gatehouse.json'),
    JSON.stringify({ listen: `127.0.0.1:${port}`, secret_store: 'file', ...transport, ...config }));
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
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  if (tls) args.push(`--ignore-certificate-errors-spki-list=${spkiHash()}`);
  return chromium.launch({ executablePath: '/usr/bin/chromium', args });
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
