// The 2-Cookie Handoff's service worker: it watches the short-lived session cookie's expiry
// (told by the page and by each refresh), and before an API request that would go out with an
// expired cookie it trades the long-lived refresh cookie for a fresh one: once, however many
// requests are waiting. A 401 gets one refresh and one retry. A refresh that fails means the
// session is over: every page is told why.
'use strict';

let sessionExpiresAt = 0; // ms since the epoch; 0: not logged in (or not known)
let inFlight = null;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function tellPages(message) {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) client.postMessage(message);
}

function refresh() {
  if (!inFlight) {
    inFlight = fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin' })
      .then(async (response) => {
        const body = await response.json().catch(() => ({}));
        if (!response.ok) {
          sessionExpiresAt = 0;
          await tellPages({ type: 'logged-out', reason: body.error_description || body.error || 'refresh failed' });
          return false;
        }
        sessionExpiresAt = Date.now() + body.expires_in * 1000;
        await tellPages({ type: 'refreshed', sessionExpiresAt, accessExpiresIn: body.access_expires_in });
        return true;
      })
      .catch(() => false)
      .finally(() => { inFlight = null; });
  }
  return inFlight;
}

self.addEventListener('message', (event) => {
  const message = event.data || {};
  if (message.type === 'session') sessionExpiresAt = message.sessionExpiresAt || 0;
  if (message.type === 'refresh-now') event.waitUntil(refresh());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/api/')) return;
  event.respondWith((async () => {
    // A second of margin: the cookie must still be there when the request arrives.
    if (sessionExpiresAt && Date.now() > sessionExpiresAt - 1000) await refresh();
    const retry = event.request.clone();
    let response = await fetch(event.request);
    if (response.status === 401 && sessionExpiresAt && (await refresh())) response = await fetch(retry);
    return response;
  })());
});
