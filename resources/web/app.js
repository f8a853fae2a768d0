// The demo page: log in with the 2-Cookie Handoff, keep working across session-cookie expiries
// (the service worker refreshes), talk to the user's other devices over a WebSocket that the
// session cookie authenticates, and say clearly why the session ended.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { sessionExpiresAt: 0, accessExpiresAt: 0, sliExpiresAt: 0, refreshes: 0, socket: null, loggedIn: false };
const closeReasons = { 4000: 'disconnected by an administrator', 4001: 'the access token expired',
  4003: 'the session was revoked' };

function device() {
  let id = localStorage.getItem('gatehouse-device');
  if (!id) {
    id = 'browser-' + Math.random().toString(36).slice(2, 8);
    localStorage.setItem('gatehouse-device', id);
  }
  return id;
}

function tellWorker(message) {
  navigator.serviceWorker?.controller?.postMessage(message);
}

function showLoggedOut(reason) {
  state.loggedIn = false;
  state.sessionExpiresAt = 0;
  tellWorker({ type: 'session', sessionExpiresAt: 0 });
  if (state.socket) state.socket.close(1000);
  state.socket = null;
  $('session-view').hidden = true;
  $('login-view').hidden = false;
  $('logged-out-reason').textContent = reason ? `Logged out: ${reason}.` : '';
  setConnection(false);
}

function setConnection(online) {
  $('connection').textContent = online ? 'live' : 'offline';
  $('connection').classList.toggle('online', online);
}

function left(at) {
  if (!at) return '–';
  const seconds = Math.max(0, Math.round((at - Date.now()) / 1000));
  const minutes = `${Math.floor(seconds / 60) % 60}:${String(seconds % 60).padStart(2, '0')}`;
  return seconds >= 3600 ? `${Math.floor(seconds / 3600)}:${minutes.padStart(5, '0')}` : minutes;
}

async function loadMe() {
  const response = await fetch('/api/me', { credentials: 'same-origin' });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    if (state.loggedIn) showLoggedOut(body.error_description || 'the session ended');
    return null;
  }
  const me = await response.json();
  state.accessExpiresAt = Date.now() + me.expires_in * 1000;
  // The single login lets other applications in without a password (silent re-authentication).
  state.sliExpiresAt = me.sli_expires_in ? Date.now() + me.sli_expires_in * 1000 : 0;
  $('user').textContent = me.sub;
  $('device').textContent = `on ${me.device}`;
  return me;
}

function connectSocket() {
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.socket = socket;
  socket.addEventListener('open', () => setConnection(true));
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'sync' || message.type === 'broadcast') {
      const item = document.createElement('li');
      const payload = message.payload ?? {};
      item.textContent = typeof payload === 'string' ? payload
        : `${payload.from ?? (message.type === 'broadcast' ? 'admin' : 'device')}: ${payload.text ?? JSON.stringify(payload)}`;
      $('messages').prepend(item);
    } else if (message.type === 'expiring') {
      tellWorker({ type: 'refresh-now' });
    }
  });
  socket.addEventListener('close', (event) => {
    setConnection(false);
    if (state.socket !== socket || !state.loggedIn) return;
    if (event.code === 4003) return showLoggedOut(closeReasons[4003]);
    // Anything else: come back after a jittered pause, refreshing first if the token ran out.
    setTimeout(async () => {
      if (!state.loggedIn) return;
      if (event.code === 4001) tellWorker({ type: 'refresh-now' });
      if (await loadMe()) connectSocket();
    }, 1000 + Math.random() * 2000);
  });
}

async function startSession(sessionExpiresIn) {
  state.loggedIn = true;
  state.sessionExpiresAt = Date.now() + sessionExpiresIn * 1000;
  tellWorker({ type: 'session', sessionExpiresAt: state.sessionExpiresAt });
  $('login-view').hidden = true;
  $('session-view').hidden = false;
  $('logged-out-reason').textContent = '';
  if (await loadMe()) connectSocket();
}

async function login(event) {
  event.preventDefault();
  $('login-error').textContent = '';
  const response = await fetch('/auth/login', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: $('username').value, password: $('password').value, device: device(), cookies: true }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    $('login-error').textContent = body.error_description || body.error || `login failed (${response.status})`;
    return;
  }
  $('password').value = '';
  await startSession(body.expires_in);
}

async function logout(everywhere) {
  await fetch('/api/me', { credentials: 'same-origin' }); // through the worker: a fresh cookie if needed
  await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ everywhere }) });
  showLoggedOut(everywhere ? 'you logged out on every device' : 'you logged out');
}

async function main() {
  if ('serviceWorker' in navigator) {
    await navigator.serviceWorker.register('/sw.js');
    await navigator.serviceWorker.ready;
    navigator.serviceWorker.addEventListener('message', (event) => {
      const message = event.data || {};
      if (message.type === 'refreshed') {
        state.sessionExpiresAt = message.sessionExpiresAt;
        state.accessExpiresAt = Date.now() + message.accessExpiresIn * 1000;
        $('refreshes').textContent = String(++state.refreshes);
      } else if (message.type === 'logged-out' && state.loggedIn) {
        showLoggedOut(message.reason.replaceAll('_', ' '));
      }
    });
  }
  $('login-form').addEventListener('submit', login);
  $('call-api').addEventListener('click', async () => {
    const me = await loadMe();
    $('api-result').textContent = me ? `GET /api/me: ${me.sub}, session ${me.sid.slice(0, 8)}` : '';
  });
  $('refresh-now').addEventListener('click', () => tellWorker({ type: 'refresh-now' }));
  $('logout').addEventListener('click', () => logout(false));
  $('logout-everywhere').addEventListener('click', () => logout(true));
  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('message').value.trim();
    if (!text || state.socket?.readyState !== WebSocket.OPEN) return;
    state.socket.send(JSON.stringify({ type: 'sync', payload: { from: device(), text } }));
    $('message').value = '';
  });
  // The page keeps using the API once a second, as a real app would, across cookie expiries.
  setInterval(() => { if (state.loggedIn) loadMe(); }, 1000);
  setInterval(() => {
    $('session-left').textContent = left(state.sessionExpiresAt);
    $('access-left').textContent = left(state.accessExpiresAt);
    $('sli-left').textContent = left(state.sliExpiresAt);
  }, 250);
  // Already logged in (a reload): the session cookie or the worker's refresh says so.
  const me = await fetch('/api/me', { credentials: 'same-origin' });
  if (me.ok) await startSession(0);
}

main();
