// Silent re-authentication and single logout in a real browser (Debian's chromium through
// playwright-core), with a relying party written here in plain Node: it runs the code flow
// with PKCE, checks every ID and logout token against the provider's JWKS with node:crypto
// (an implementation independent of Gatehouse's), and receives back- and front-channel
// logouts. Usage: node oidc.mjs GATEHOUSED
import { sleep, until, startGatehoused, launchChromium, loginToWebClient, cookieName } from './harness.mjs';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:http';
import assert from 'node:assert/strict';

const gatehoused = process.argv[2];
const password = 'correct horse battery';
const base64url = (buffer) => Buffer.from(buffer).toString('base64url');

// The relying party "notes", on its own port.
const rpServer = createServer();
await new Promise((resolve) => rpServer.listen(0, '127.0.0.1', resolve));
const rp = `http://127.0.0.1:${rpServer.address().port}`;
const gate = await startGatehoused(gatehoused, {}, (cli) => {
  cli(['user', 'add', 'alice', '--password-stdin'], `${password}\n`);
  cli(['client', 'add', '--id', 'notes', '--redirect-uri', `${rp}/cb`, '--backchannel-logout-uri', `${rp}/backchannel`,
    '--frontchannel-logout-uri', `${rp}/frontchannel`]);
});
const { base } = gate;
const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
assert.equal(discovery.issuer, base);

async function verifiedClaims(jwt, expectedType) {
  const [header64, payload64, signature64] = jwt.split('.');
  const header = JSON.parse(Buffer.from(header64, 'base64url'));
  assert.equal(header.typ, expectedType);
  const jwks = await (await fetch(discovery.jwks_uri)).json();
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  assert.equal(header.alg, 'EdDSA');
  const good = verify(null, Buffer.from(`${header64}.${payload64}`), createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(signature64, 'base64url'));
  assert.ok(good, 'the signature verifies with node:crypto');
  const claims = JSON.parse(Buffer.from(payload64, 'base64url'));
  assert.equal(claims.iss, discovery.issuer);
  assert.equal(claims.aud, 'notes');
  return claims;
}

const pending = new Map(); // state → { verifier, nonce }
const backchannel = [];
const frontchannel = [];
rpServer.on('request', async (request, response) => {
  const url = new URL(request.url, rp);
  const page = (status, html) => { response.writeHead(status, { 'Content-Type': 'text/html' }); response.end(html); };
  try {
    if (url.pathname === '/login') {
      const verifier = base64url(randomBytes(32));
      const state = base64url(randomBytes(12));
      const nonce = base64url(randomBytes(12));
      pending.set(state, { verifier, nonce });
      const authorize = new URL(discovery.authorization_endpoint);
      for (const [name, value] of Object.entries({ client_id: 'notes', redirect_uri: `${rp}/cb`, response_type: 'code',
        scope: 'openid', state, nonce, code_challenge: base64url(createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256', ...(url.searchParams.get('prompt') ? { prompt: url.searchParams.get('prompt') } : {}) })) {
        authorize.searchParams.set(name, value);
      }
      response.writeHead(302, { Location: authorize.href });
      return response.end();
    }
    if (url.pathname === '/cb') {
      const flow = pending.get(url.searchParams.get('state'));
      assert.ok(flow, 'the state is one the RP sent');
      assert.equal(url.searchParams.get('iss'), discovery.issuer);
      if (url.searchParams.get('error')) return page(200, `<p id="rp-error">${url.searchParams.get('error')}</p>`);
      const token = await fetch(discovery.token_endpoint, { method: 'POST',
        body: new URLSearchParams({ grant_type: 'authorization_code', code: url.searchParams.get('code'),
          redirect_uri: `${rp}/cb`, client_id: 'notes', code_verifier: flow.verifier }) });
      const tokens = await token.json();
      assert.equal(token.status, 200, JSON.stringify(tokens));
      const claims = await verifiedClaims(tokens.id_token, 'JWT');
      assert.equal(claims.nonce, flow.nonce);
      return page(200, `<p id="rp-user">${claims.sub}</p><p id="rp-sid">${claims.sid}</p>`);
    }
    if (url.pathname === '/backchannel' && request.method === 'POST') {
      let body = '';
      for await (const chunk of request) body += chunk;
      backchannel.push(await verifiedClaims(new URLSearchParams(body).get('logout_token'), 'logout+jwt'));
      response.writeHead(200);
      return response.end();
    }
    if (url.pathname === '/frontchannel') {
      frontchannel.push(Object.fromEntries(url.searchParams));
      return page(200, '<p>logged out of notes</p>');
    }
    page(404, 'not found');
  } catch (error) {
    console.error('relying party:', error);
    page(500, `<p id="rp-failure">${error.message}</p>`);
  }
});

/// Runs the RP's login in `page` and returns what it ended with; `sawLoginPage` says whether the
/// provider asked for a password on the way.
async function rpLogin(page, prompt) {
  let sawLoginPage = false;
  const watch = (response) => {
    if (new URL(response.url()).pathname === '/oauth/authorize' && response.status() === 200) sawLoginPage = true;
  };
  page.on('response', watch);
  await page.goto(`${rp}/login${prompt ? `?prompt=${prompt}` : ''}`);
  if (new URL(page.url()).pathname === '/oauth/authorize') {
    await page.fill('#username', 'alice');
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  }
  await page.waitForSelector('#rp-user, #rp-error, #rp-failure');
  page.off('response', watch);
  return { sawLoginPage, user: await page.$eval('#rp-user', (e) => e.textContent).catch(() => null),
    sid: await page.$eval('#rp-sid', (e) => e.textContent).catch(() => null),
    error: await page.$eval('#rp-error', (e) => e.textContent).catch(() => null),
    failure: await page.$eval('#rp-failure', (e) => e.textContent).catch(() => null) };
}

let browser;
try {
  browser = await launchChromium();
  const contextA = await browser.newContext();
  const contextB = await browser.newContext();
  const a = await contextA.newPage();
  const b = await contextB.newPage();

  // 1. Browser A: the first login goes through the provider's login page.
  const first = await rpLogin(a);
  assert.equal(first.failure, null);
  assert.ok(first.sawLoginPage);
  assert.equal(first.user, 'alice');
  const sli = (await contextA.cookies(base)).find((c) => c.name === cookieName('gh_sli'));
  assert.ok(sli?.httpOnly && sli.sameSite === 'Lax', JSON.stringify(sli));

  // 2. Silent re-authentication: without prompt and with prompt=none, no page, same login.
  for (const prompt of [undefined, 'none']) {
    const again = await rpLogin(a, prompt);
    assert.equal(again.sawLoginPage, false, `no login page (prompt=${prompt})`);
    assert.equal(again.user, 'alice');
    assert.equal(again.sid, first.sid);
  }

  // 3. Browser B has no login: prompt=none is login_required; without prompt, the page.
  assert.equal((await rpLogin(b, 'none')).error, 'login_required');
  await b.goto(`${rp}/login`);
  await b.waitForSelector('#authorize-login');

  // 4. B logs into the demo web client: that is a single login too (its countdown runs) and
  //    the relying party now gets in silently.
  await loginToWebClient(b, base, 'alice', password);
  await until(async () => /^\d+:\d\d:\d\d$/.test(await b.textContent('#sli-left')));
  const silentB = await rpLogin(await contextB.newPage(), 'none');
  assert.equal(silentB.user, 'alice');
  assert.equal(silentB.sawLoginPage, false);

  // 5. A opens the web client too; then single logout from B: the WebSockets of both browsers
  //    close with 4003, the relying party hears it on both channels, and no login is left.
  const aWeb = await contextA.newPage();
  await loginToWebClient(aWeb, base, 'alice', password);
  const logoutPage = await contextB.newPage();
  await logoutPage.goto(`${base}/oauth/logout`);
  await logoutPage.click('#logout-confirm-button');
  await logoutPage.waitForSelector('#logged-out');
  assert.match(await logoutPage.textContent('#logout-summary'), /alice: \d+ sessions ended/);
  for (const web of [aWeb, b]) {
    await web.waitForSelector('#login-view:not([hidden])', { timeout: 10000 });
    assert.match(await web.textContent('#logged-out-reason'), /the session was revoked/);
    assert.equal(await web.textContent('#connection'), 'offline');
  }
  await until(() => backchannel.length >= 2 && frontchannel.length >= 2);
  const sids = new Set([first.sid, silentB.sid]);
  assert.deepEqual(new Set(backchannel.map((claims) => claims.sid)), sids);
  for (const claims of backchannel) {
    assert.equal(claims.sub, 'alice');
    assert.ok('http://schemas.openid.net/event/backchannel-logout' in claims.events);
    assert.equal(claims.nonce, undefined);
  }
  assert.deepEqual(new Set(frontchannel.map((query) => query.sid)), sids);
  assert.ok(frontchannel.every((query) => query.iss === discovery.issuer));
  for (const context of [contextA, contextB])
    assert.equal((await rpLogin(await context.newPage(), 'none')).error, 'login_required');
  console.log(`ok: silent re-authentication and single logout in chromium (${backchannel.length} back-channel, `
    + `${frontchannel.length} front-channel logouts)`);
} finally {
  await browser?.close();
  rpServer.close();
  gate.stop();
}
