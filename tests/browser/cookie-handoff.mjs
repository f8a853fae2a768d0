// The 2-Cookie Handoff in a real browser: Debian's chromium, driven by playwright-core, against
// a gatehoused started here with a 5-second session cookie. Usage: node cookie-handoff.mjs GATEHOUSED
import { sleep, until, startGatehoused, launchChromium, loginToWebClient, tls, cookieName } from './harness.mjs';
import assert from 'node:assert/strict';

const gatehoused = process.argv[2];
const gate = await startGatehoused(gatehoused, { session_cookie_ttl: 5 },
  (cli) => cli(['user', 'add', 'alice', '--password-stdin'], 'correct horse battery\n'));
const { base, adminToken } = gate;
let browser;

async function metric(name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? NaN);
}

const loginIn = (page, password = 'correct horse battery') => loginToWebClient(page, base, 'alice', password);

try {
  browser = await launchChromium();

  // 1. Login; the service worker controls the page; the page keeps working across several
  //    5-second session cookies, with exactly one refresh for each.
  const context = await browser.newContext();
  const page = await context.newPage();
  const failures = [];
  page.on('pageerror', (error) => failures.push(String(error)));
  await loginIn(page);
  assert.equal(await page.textContent('#user'), 'alice');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === cookieName('gh_session'));
  const refresh = cookies.find((c) => c.name === cookieName('gh_refresh'));
  assert.ok(session?.httpOnly && session.sameSite === 'Strict' && session.path === '/', JSON.stringify(session));
  assert.ok(refresh?.httpOnly && refresh.path === '/auth/refresh', JSON.stringify(refresh));
  assert.equal(session.secure, tls, 'Secure exactly over TLS');
  assert.equal(refresh.secure, tls);
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie is readable by scripts');
  const refreshesBefore = await metric('gatehouse_refreshes_total');
  const started = Date.now();
  await sleep(14500);
  const elapsed = (Date.now() - started) / 1000;
  // The page's count around the server's: a refresh may land between two reads (the server
  // counts it before the page hears its answer), so the server's count is between them.
  const seenBefore = Number(await page.textContent('#refreshes'));
  const refreshes = (await metric('gatehouse_refreshes_total')) - refreshesBefore;
  const seenByPage = Number(await page.textContent('#refreshes'));
  console.log(`${refreshes} refreshes in ${elapsed.toFixed(1)} s with a 5 s session cookie; the page saw ${seenByPage}`);
  assert.ok(await page.isVisible('#session-view'), 'still logged in');
  assert.equal(await page.textContent('#connection'), 'live');
  // One refresh per cookie lifetime (renewed a second early, so every 4 s): never two for one.
  assert.ok(seenBefore <= refreshes && refreshes <= seenByPage,
    `every refresh went through the worker, one at a time: the server counted ${refreshes}, the page ${seenBefore} then ${seenByPage}`);
  assert.ok(refreshes >= Math.floor(elapsed / 5) && refreshes <= Math.ceil(elapsed / 4), `${refreshes} refreshes`);
  const me = await page.evaluate(async () => (await fetch('/api/me')).status);
  assert.equal(me, 200);

  // 2. Replaying the first refresh cookie, long since rotated, is reuse: the session is revoked,
  //    its WebSocket closes with 4003, and the page says it is logged out.
  const replay = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { Cookie: `${cookieName('gh_refresh')}=${refresh.value}` } });
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
    headers: { Cookie: `${cookieName('gh_refresh')}=${(await context.cookies()).find((c) => c.name === cookieName('gh_refresh'))?.value ?? 'none'}` } })).status, 401);

  // 4. A new password (set by the admin): the WebSocket closes with 4003, the page shows it is
  //    logged out, and the refresh cookie it had is refused.
  await loginIn(page);
  const refreshBefore = (await context.cookies()).find((c) => c.name === cookieName('gh_refresh')).value;
  const changed = await fetch(`${base}/admin/users/alice/password`, { method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ password: 'a new horse battery' }) });
  assert.equal(changed.status, 200);
  await page.waitForSelector('#login-view:not([hidden])', { timeout: 10000 });
  assert.match(await page.textContent('#logged-out-reason'), /revoked/);
  const afterChange = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { Cookie: `${cookieName('gh_refresh')}=${refreshBefore}` } });
  assert.equal(afterChange.status, 401);
  assert.equal((await afterChange.json()).error, 'invalid_grant');
  await sleep(1100); // tokens of the second the password changed in are refused (`iat` is in seconds)

  // 5. Log out everywhere from the page.
  await loginIn(page, 'a new horse battery');
  await page.click('#logout-everywhere');
  await page.waitForSelector('#login-view:not([hidden])');
  assert.match(await page.textContent('#logged-out-reason'), /every device/);
  // The session cookies go; the device cookie stays: it logs nobody in, it only keeps this
  // browser a known device for the login limits.
  const left = (await context.cookies()).filter((c) => c.name.includes('gh_')).map((c) => c.name);
  assert.deepEqual(left, [cookieName('gh_device')], 'session cookies cleared');
  assert.deepEqual(failures, []);
  console.log(`ok: 2-Cookie Handoff in chromium${tls ? ' over HTTPS' : ''}`);
} finally {
  await browser?.close();
  gate.stop();
}
