// Keeps logins and refresh-token rotations in flight against Gatehouse while another scenario
// runs: `--logins` loops each logging a user in again and again, `--refreshes` loops each
// rotating its own session's refresh token. Writes READY_FILE once the loops run, and on
// SIGTERM prints one JSON line with the throughput reached and the errors seen.
//   node background-load.mjs --port P --users N --logins 40 --refreshes 300 --ready FILE --label L
import http from 'node:http';
import { writeFileSync } from 'node:fs';

const options = { port: 0, users: 100, logins: 40, refreshes: 300, ready: '', label: 'gatehouse-loaded',
  password: 'benchmark password' };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  const name = process.argv[i].replace(/^--/, '');
  options[name] = ['port', 'users', 'logins', 'refreshes'].includes(name) ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const agent = new http.Agent({ keepAlive: true, maxSockets: options.logins + options.refreshes + 16 });

function post(path, body, type) {
  return new Promise((resolve) => {
    const request = http.request({ host: '127.0.0.1', port: options.port, path, method: 'POST', agent,
      headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        let json = {};
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: response.statusCode, json });
      });
    });
    request.on('error', () => resolve({ status: 0, json: {} }));
    request.end(body);
  });
}
const login = (user, device) => post('/auth/login',
  JSON.stringify({ username: user, password: options.password, device }), 'application/json');
const refresh = (token) => post('/oauth/token',
  `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}`, 'application/x-www-form-urlencoded');
const user = (i) => `u${(i % options.users) + 1}`;

const counts = { logins: 0, refreshes: 0, errors: {} };
const error = (what, status) => { const key = `${what}_${status}`; counts.errors[key] = (counts.errors[key] ?? 0) + 1; };
let stopping = false;

// First one login per user, one at a time: the login limits hold back an unknown address
// that tries many accounts at once (a stranger spraying passwords); after a success it is a
// known address of that account, counted per account.
for (let i = 0; i < options.users; ++i) {
  const answer = await login(user(i), 'warm-up');
  if (answer.status !== 200) error('warm_up_login', answer.status);
}
// The refresh loops' sessions, logged in `logins` at a time.
const sessions = new Array(options.refreshes);
for (let next = 0; next < options.refreshes;) {
  const batch = [];
  for (let i = 0; i < options.logins && next < options.refreshes; ++i, ++next) {
    const index = next;
    batch.push(login(user(index), `refresh-${index}`).then((answer) => {
      if (answer.status !== 200) error('setup_login', answer.status);
      sessions[index] = answer.json.refresh_token;
    }));
  }
  await Promise.all(batch);
}
if (sessions.some((token) => !token)) {
  console.error(`background-load: could not log the refresh sessions in: ${JSON.stringify(counts.errors)}`);
  process.exit(1);
}

const loops = [];
for (let i = 0; i < options.logins; ++i) {
  loops.push((async () => {
    while (!stopping) {
      const answer = await login(user(i), `burst-${i}`);
      if (answer.status === 200) ++counts.logins; else error('login', answer.status);
    }
  })());
}
for (let i = 0; i < options.refreshes; ++i) {
  loops.push((async () => {
    let token = sessions[i];
    while (!stopping) {
      const answer = await refresh(token);
      if (answer.status === 200) { ++counts.refreshes; token = answer.json.refresh_token; } else {
        error('refresh', answer.status);
        const again = await login(user(i), `refresh-${i}`);
        if (again.status === 200) token = again.json.refresh_token;
      }
    }
  })());
}
const started = process.hrtime.bigint();
if (options.ready) writeFileSync(options.ready, 'running\n');

const stop = async () => {
  if (stopping) return;
  stopping = true;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await Promise.all(loops);
  console.log(JSON.stringify({ scenario: 'background', label: options.label, seconds: +seconds.toFixed(2),
    logins_in_flight: options.logins, refreshes_in_flight: options.refreshes,
    logins_per_second: +(counts.logins / seconds).toFixed(1), refreshes_per_second: +(counts.refreshes / seconds).toFixed(1),
    errors: counts.errors }));
  agent.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
