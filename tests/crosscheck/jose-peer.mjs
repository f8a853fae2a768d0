// The independent side of the JOSE cross-check (tests/integration/tst_josecrosscheck.cpp).
// Reads one JSON request on stdin and writes one JSON answer on stdout:
//   1. verifies Gatehouse's tokens with `jose`, against Gatehouse's JWKS (or HS256 secret),
//      with the algorithm, issuer, audience and typ pinned;
//   2. mints tokens of its own (valid ones for EdDSA, ES256, RS256, HS256, and forgeries)
//      for Gatehouse to verify, with the JWKS and secret that go with them.
import * as jose from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';

const input = JSON.parse(await new Promise((resolve, reject) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
  process.stdin.on('error', reject);
}));

async function verifyOurs({ jwks, hs256, issuer, audience, tokens }) {
  const keySet = jose.createLocalJWKSet(jwks);
  const secret = Buffer.from(hs256.k, 'base64url');
  const results = [];
  for (const { name, alg, token } of tokens) {
    try {
      const key = alg === 'HS256' ? secret : keySet;
      await jose.jwtVerify(token, key, { issuer, audience, typ: 'at+jwt', algorithms: [alg] });
      results.push({ name, accepted: true });
    } catch (error) {
      results.push({ name, accepted: false, reason: error.code ?? String(error) });
    }
  }
  return results;
}

async function mintTheirs({ issuer, audience }) {
  const now = Math.floor(Date.now() / 1000);
  const claims = (extra = {}) => ({
    iss: issuer, aud: audience, sub: 'node-user', jti: randomUUID(), sid: 'node-session',
    iat: now, nbf: now, exp: now + 300, roles: ['viewer'], ...extra,
  });
  const sign = (payload, alg, kid, key) =>
    new jose.SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(key);

  const keys = [];
  const privateKeys = {};
  for (const [alg, options] of [['EdDSA', { crv: 'Ed25519' }], ['ES256', {}], ['RS256', { modulusLength: 2048 }]]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { ...options, extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    jwk.kid = `node-${alg}`;
    jwk.alg = alg;
    jwk.use = 'sig';
    keys.push(jwk);
    privateKeys[alg] = { privateKey, publicKey, kid: jwk.kid };
  }
  const hsSecret = randomBytes(32);
  const hsKid = 'node-HS256';

  const tokens = [];
  for (const alg of ['EdDSA', 'ES256', 'RS256']) {
    const { privateKey, kid } = privateKeys[alg];
    tokens.push({ name: `jose ${alg} token`, token: await sign(claims(), alg, kid, privateKey), expect: 'accepted' });
  }
  tokens.push({ name: 'jose HS256 token', token: await sign(claims(), 'HS256', hsKid, hsSecret), expect: 'accepted' });

  const ed = privateKeys.EdDSA;
  const unsecured = new jose.UnsecuredJWT(claims()).encode();
  tokens.push({ name: 'alg none', token: unsecured, expect: 'alg_none' });
  // The classic confusion: HMAC keyed with the RSA public key as published, under the RSA kid.
  const rsaPem = await jose.exportSPKI(privateKeys.RS256.publicKey);
  tokens.push({
    name: 'HS256 keyed with the RSA public key',
    token: await sign(claims(), 'HS256', privateKeys.RS256.kid, new TextEncoder().encode(rsaPem)),
    expect: 'alg_mismatch',
  });
  tokens.push({ name: 'expired', token: await sign(claims({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), 'EdDSA', ed.kid, ed.privateKey), expect: 'token_expired' });
  tokens.push({ name: 'wrong audience', token: await sign(claims({ aud: 'someone-else' }), 'EdDSA', ed.kid, ed.privateKey), expect: 'wrong_audience' });
  const valid = await sign(claims(), 'EdDSA', ed.kid, ed.privateKey);
  const [header, , signature] = valid.split('.');
  const forgedPayload = Buffer.from(JSON.stringify(claims({ sub: 'admin', roles: ['admin'] }))).toString('base64url');
  tokens.push({ name: 'tampered payload', token: `${header}.${forgedPayload}.${signature}`, expect: 'bad_signature' });
  const stranger = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
  tokens.push({ name: 'unknown kid', token: await sign(claims(), 'EdDSA', 'node-unknown', stranger.privateKey), expect: 'unknown_kid' });

  return { jwks: { keys }, hs256: { kid: hsKid, k: hsSecret.toString('base64url') }, tokens };
}

const answer = {
  verified: await verifyOurs(input.ours),
  theirs: await mintTheirs(input.theirs),
};
process.stdout.write(JSON.stringify(answer));
