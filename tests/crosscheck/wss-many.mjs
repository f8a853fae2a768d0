// Many WebSocket clients (npm `ws`) over wss:, and one login with fetch over https:, trusting
// only the certificate the test gives in NODE_EXTRA_CA_CERTS (no verification switched off).
// Usage: node wss-many.mjs https://localhost:PORT USER PASSWORD COUNT
// Prints one JSON line per milestone: {"event":"welcomed","count":N} once all are open; then, for
// each line "ping" read on standard input, {"event":"answered","count":N} once every one has
// answered; {"event":"closed","codes":{...}} once all are closed; errors as they come.
import readline from 'node:readline';
import WebSocket from 'ws';

const [base, username, password, countText] = process.argv.slice(2);
const count = Number(countText);
const print = (event) => process.stdout.write(JSON.stringify(event) + '\n');

const login = await fetch(`${base}/auth/login`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ username, password, device: 'node-wss' }),
});
if (login.status !== 200) {
  print({ event: 'error', message: `login answered ${login.status}` });
  process.exit(1);
}
const { access_token: token } = await login.json();
print({ event: 'logged_in', hsts: login.headers.get('strict-transport-security') });

const url = `${base.replace(/^https:/, 'wss:')}/ws?access_token=${token}`;
const sockets = [];
let welcomed = 0;
let answered = 0;
let closed = 0;
const codes = {};
for (let i = 0; i < count; ++i) {
  const socket = new WebSocket(url);
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === 'welcome') {
      if (++welcomed === count) print({ event: 'welcomed', count });
    } else if (++answered === count) {
      print({ event: 'answered', count });
    }
  });
  socket.on('unexpected-response', (request, response) => print({ event: 'refused', status: response.statusCode }));
  socket.on('close', (code) => {
    codes[code] = (codes[code] ?? 0) + 1;
    if (++closed === count) {
      print({ event: 'closed', codes });
      process.exit(0);
    }
  });
  socket.on('error', (error) => print({ event: 'error', message: String(error) }));
  sockets.push(socket);
  // A few at a time, as clients come: the server's handshake rate is not what is tested.
  if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 5));
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'ping') return;
  answered = 0;
  for (const socket of sockets) socket.send(JSON.stringify({ type: 'ping' }));
});
