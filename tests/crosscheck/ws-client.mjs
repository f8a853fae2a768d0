// An independent WebSocket client (npm `ws`) that connects the way the seed example does:
// the token in the query string. Usage: node ws-client.mjs ws://HOST:PORT/ws?access_token=TOKEN
// Prints one JSON line per event (open, message, close, or the HTTP refusal) and exits on close.
import WebSocket from 'ws';

const socket = new WebSocket(process.argv[2]);
const print = (event) => process.stdout.write(JSON.stringify(event) + '\n');

socket.on('open', () => print({ event: 'open' }));
socket.on('message', (data) => {
  const message = JSON.parse(data.toString());
  print({ event: 'message', message });
  if (message.type === 'welcome') socket.send(JSON.stringify({ type: 'ping' }));
});
socket.on('unexpected-response', (request, response) => {
  let body = '';
  response.on('data', (chunk) => { body += chunk; });
  response.on('end', () => {
    print({ event: 'refused', status: response.statusCode, body: JSON.parse(body) });
    process.exit(0);
  });
});
socket.on('close', (code, reason) => {
  print({ event: 'close', code, reason: reason.toString() });
  process.exit(0);
});
socket.on('error', (error) => print({ event: 'error', message: String(error) }));
