// HS256 tokens as the seed's example makes them (jsonwebtoken), for both servers: the seed
// peer only checks the signature and `exp`; Gatehouse's trusted issuer also wants `iss` and
// `aud`, which jsonwebtoken writes as given. Usage:
//   node tokens.js SECRET USERS DEVICES [PREFIX]   → "user token" lines, USERS×DEVICES of them
'use strict';
const jwt = require('jsonwebtoken');

const [secret, users, devices, prefix = 'u'] = process.argv.slice(2);
if (!secret || !(Number(users) > 0) || !(Number(devices) > 0)) {
  console.error('usage: node tokens.js SECRET USERS DEVICES [PREFIX]');
  process.exit(2);
}
const lines = [];
for (let u = 1; u <= Number(users); ++u) {
  for (let d = 1; d <= Number(devices); ++d) {
    const token = jwt.sign({ sub: `${prefix}${u}`, device: `d${d}`, iss: 'https://bench.example', aud: 'realtime' },
      secret, { algorithm: 'HS256', expiresIn: 3600 });
    lines.push(`${prefix}${u} ${token}`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
