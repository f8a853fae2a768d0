// The seed's own example server ("Exemple d'authentification WebSocket avec JWT (Node.js)",
// ../shared/seeds/000_*.txt), as written there: `ws` + `jsonwebtoken`, the token in the query
// string, verified with HS256 at connection, a greeting on success, 1008 on failure.
//
// Changes, each needed to run the benchmark's scenarios side by side, none to its hot path:
//  - port and secret from the environment (the secret is the same 32+ byte one Gatehouse's
//    trusted issuer uses, since Gatehouse refuses shorter HS256 secrets; the cost of HMAC
//    does not depend on it);
//  - the seed's §4.2/§5 "mapping user → connections" and "forced disconnection", so that
//    revoke-to-closed and broadcast can be measured: POST /revoke?user=U closes that user's
//    sockets with 4003, POST /broadcast sends one message to every socket;
//  - with TLS_CERT and TLS_KEY (PEM files), https.createServer instead of http: the same server
//    over wss:// for the TLS run.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const WebSocket = require('ws');
const jwt = require('jsonwebtoken');

const port = Number(process.env.PORT || 8080);
const secret = process.env.SECRET || 'secret_key';

const connectionsByUser = new Map();

const handler = (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'POST' && url.pathname === '/revoke') {
    const sockets = connectionsByUser.get(url.searchParams.get('user')) || new Set();
    for (const ws of sockets) ws.close(4003, 'revoked');
    res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' });
    res.end(JSON.stringify({ closed: sockets.size }));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/broadcast') {
    const message = JSON.stringify({ type: 'broadcast', payload: 'hello everyone' });
    let sent = 0;
    for (const ws of wss.clients) { ws.send(message); ++sent; }
    res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' });
    res.end(JSON.stringify({ sent }));
    return;
  }
  res.writeHead(404, { Connection: 'close' });
  res.end();
};
const server = process.env.TLS_CERT
  ? https.createServer({ cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) }, handler)
  : http.createServer(handler);

const wss = new WebSocket.Server({ server });

wss.on('connection', function connection(ws, req) {
  const params = new URLSearchParams(req.url.replace('/?', ''));
  const token = params.get('token');

  try {
    const user = jwt.verify(token, secret);
    ws.user = user;
    let sockets = connectionsByUser.get(user.sub);
    if (!sockets) connectionsByUser.set(user.sub, (sockets = new Set()));
    sockets.add(ws);
    ws.on('close', () => {
      sockets.delete(ws);
      if (sockets.size === 0) connectionsByUser.delete(user.sub);
    });
    ws.send('Connexion authentifiée');
  } catch (e) {
    ws.close(1008, 'Token invalide');
  }
});

server.listen(port, '127.0.0.1', () => console.log(`seed peer listening on 127.0.0.1:${port}`));
