// Turns the benchmark's results (one JSON object a line) into docs/performance.md.
// Usage: node tests/bench/report.mjs build/bench/results.jsonl CONNECTIONS > docs/performance.md
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

const [file, connections] = process.argv.slice(2);
const results = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const find = (scenario, label) => results.find((r) => r.scenario === scenario && r.label === label) ?? {};

const hs = { handshake: find('handshake', 'gatehouse-hs256'), idle: find('idle', 'gatehouse-hs256'),
  revoke: find('revoke', 'gatehouse-hs256'), broadcast: find('broadcast', 'gatehouse-hs256') };
const node = { handshake: find('handshake', 'seed-node'), idle: find('idle', 'seed-node'),
  revoke: find('revoke', 'seed-node'), broadcast: find('broadcast', 'seed-node') };
const ed = { handshake: find('handshake', 'gatehouse-eddsa'), idle: find('idle', 'gatehouse-eddsa'),
  revoke: find('revoke', 'gatehouse-eddsa'), broadcast: find('broadcast', 'gatehouse-eddsa'),
  hold: find('hold', 'gatehouse-eddsa'), snapshots: find('snapshots', 'gatehouse-eddsa') };
const forged = find('refused', 'gatehouse-forged');
const wss = { handshake: find('handshake', 'gatehouse-wss'), idle: find('idle', 'gatehouse-wss') };
const nodeWss = { handshake: find('handshake', 'seed-node-wss'), idle: find('idle', 'seed-node-wss') };
const loaded = { revoke: find('revoke', 'gatehouse-loaded'), load: find('background', 'gatehouse-loaded') };
const ed25519 = find('openssl', 'ed25519').verify_ms;
const consoleRun = { loop: find('console', 'console'), handshake: find('handshake', 'console-eddsa'),
  revoke: find('revoke', 'console-eddsa'), hold: find('hold', 'console-eddsa') };
// The same window attached to a gatehoused in another process, over the admin feed.
const remoteRun = { loop: find('console', 'console-remote'), handshake: find('handshake', 'console-remote-eddsa'),
  revoke: find('revoke', 'console-remote-eddsa') };
// Pinging idle connections: CPU per ping (beyond the quiet minute's), and what that makes of
// the default interval (25 s) for this many connections, in % of one core.
const pings = find('pings', 'gatehouse-pings');
// Broadcasts to everyone, 7 rounds with no inspector and 7 with 16 connections inspected through
// the admin feed: the server's CPU per delivered message, median of each.
const inspectCost = find('inspect_cost', 'gatehouse-hs256');
const inspectors = find('inspectors', 'gatehouse-hs256');
// "Zero" is judged against the figure's own spread between rounds, with 2 % of slack.
const inspectSpread = inspectCost.plain_max > 0
  ? Math.max(2, (100 * (inspectCost.plain_max - inspectCost.plain_min)) / inspectCost.server_cpu_us_per_message_plain) : 0;
const pingCorePercent = (pings.server_cpu_us_per_ping * (pings.connections ?? 0)) / 25 / 1e4;

const fmt = (value, digits = 2) => (value === undefined || Number.isNaN(value) ? 'n/a' : Number(value).toFixed(digits));
const ratio = (a, b) => (a && b ? `${fmt(a / b)}×` : 'n/a');
const verdict = (ok) => (ok ? 'met' : '**not met**');
const kib = (bytes) => `${fmt(bytes / 1024, 1)} KiB`;
const feedLine = (loop) => `feed ${kib(loop.feed_bytes_per_second_avg)}/s on average, ${kib(loop.feed_bytes_per_second_peak)}/s at the peak second `
  + `(${fmt(loop.feed_messages_per_second_avg, 1)} / ${fmt(loop.feed_messages_per_second_peak, 0)} messages/s)`
  + `${loop.feed_losses ? `; the feed was lost ${loop.feed_losses} times` : ''}`;

const rows = [
  ['authenticated handshakes/s', fmt(hs.handshake.handshakes_per_second, 0), fmt(node.handshake.handshakes_per_second, 0),
    ratio(hs.handshake.handshakes_per_second, node.handshake.handshakes_per_second), fmt(ed.handshake.handshakes_per_second, 0)],
  ['server CPU per handshake (ms)', fmt(hs.handshake.server_cpu_ms_per_handshake, 4), fmt(node.handshake.server_cpu_ms_per_handshake, 4),
    ratio(hs.handshake.server_cpu_ms_per_handshake, node.handshake.server_cpu_ms_per_handshake), fmt(ed.handshake.server_cpu_ms_per_handshake, 4)],
  ['connect latency p50 (ms)', fmt(hs.handshake.p50_ms, 3), fmt(node.handshake.p50_ms, 3), ratio(hs.handshake.p50_ms, node.handshake.p50_ms), fmt(ed.handshake.p50_ms, 3)],
  ['connect latency p99 (ms)', fmt(hs.handshake.p99_ms, 3), fmt(node.handshake.p99_ms, 3), ratio(hs.handshake.p99_ms, node.handshake.p99_ms), fmt(ed.handshake.p99_ms, 3)],
  ['server RSS per idle connection (KiB)', fmt(hs.idle.rss_kib_per_connection), fmt(node.idle.rss_kib_per_connection),
    ratio(hs.idle.rss_kib_per_connection, node.idle.rss_kib_per_connection), fmt(ed.idle.rss_kib_per_connection)],
  ['revoke-to-closed p50, 10 devices (ms)', fmt(hs.revoke.p50_ms, 3), fmt(node.revoke.p50_ms, 3), ratio(hs.revoke.p50_ms, node.revoke.p50_ms), fmt(ed.revoke.p50_ms, 3)],
  ['revoke-to-closed p99, 10 devices (ms)', fmt(hs.revoke.p99_ms, 3), fmt(node.revoke.p99_ms, 3), ratio(hs.revoke.p99_ms, node.revoke.p99_ms), fmt(ed.revoke.p99_ms, 3)],
  ['broadcast to all, last delivery (ms)', fmt(hs.broadcast.all_delivered_ms, 1), fmt(node.broadcast.all_delivered_ms, 1),
    ratio(hs.broadcast.all_delivered_ms, node.broadcast.all_delivered_ms), fmt(ed.broadcast.all_delivered_ms, 1)],
  ['server CPU per delivered message (µs)', fmt(hs.broadcast.server_cpu_us_per_message), fmt(node.broadcast.server_cpu_us_per_message),
    ratio(hs.broadcast.server_cpu_us_per_message, node.broadcast.server_cpu_us_per_message), fmt(ed.broadcast.server_cpu_us_per_message)],
];

const tlsRows = [
  ['WSS handshakes/s', fmt(wss.handshake.handshakes_per_second, 0), fmt(nodeWss.handshake.handshakes_per_second, 0),
    ratio(wss.handshake.handshakes_per_second, nodeWss.handshake.handshakes_per_second)],
  ['server CPU per WSS handshake (ms)', fmt(wss.handshake.server_cpu_ms_per_handshake, 4), fmt(nodeWss.handshake.server_cpu_ms_per_handshake, 4),
    ratio(wss.handshake.server_cpu_ms_per_handshake, nodeWss.handshake.server_cpu_ms_per_handshake)],
  ['connect latency p50 (ms)', fmt(wss.handshake.p50_ms, 3), fmt(nodeWss.handshake.p50_ms, 3), ratio(wss.handshake.p50_ms, nodeWss.handshake.p50_ms)],
  ['connect latency p99 (ms)', fmt(wss.handshake.p99_ms, 3), fmt(nodeWss.handshake.p99_ms, 3), ratio(wss.handshake.p99_ms, nodeWss.handshake.p99_ms)],
  ['server RSS per idle WSS connection (KiB)', fmt(wss.idle.rss_kib_per_connection), fmt(nodeWss.idle.rss_kib_per_connection),
    ratio(wss.idle.rss_kib_per_connection, nodeWss.idle.rss_kib_per_connection)],
];

const cpu = cpus();
const edRatio = ed.handshake.server_cpu_ms_per_handshake / ed25519;
const targets = [
  ['server CPU per HS256 handshake ≤ 0.1 ms', `${fmt(hs.handshake.server_cpu_ms_per_handshake, 4)} ms`,
    verdict(hs.handshake.server_cpu_ms_per_handshake <= 0.1)],
  ['a refused handshake (forged HS256 token) costs no more server CPU than an accepted one',
    `${fmt(forged.server_cpu_ms_per_refusal, 4)} ms refused vs ${fmt(hs.handshake.server_cpu_ms_per_handshake, 4)} ms accepted (${forged.refused ?? 'n/a'} refusals, ${fmt(forged.refusals_per_second, 0)}/s)`,
    verdict(forged.server_cpu_ms_per_refusal <= hs.handshake.server_cpu_ms_per_handshake)],
  ['server CPU per EdDSA handshake ≤ 1.5 × one Ed25519 verify', `${fmt(ed.handshake.server_cpu_ms_per_handshake, 4)} ms = ${fmt(edRatio)} × ${fmt(ed25519, 4)} ms`,
    verdict(edRatio <= 1.5)],
  ['RSS per idle connection ≤ the Node peer\'s', `${fmt(hs.idle.rss_kib_per_connection)} / ${fmt(ed.idle.rss_kib_per_connection)} vs ${fmt(node.idle.rss_kib_per_connection)} KiB`,
    verdict(hs.idle.rss_kib_per_connection <= node.idle.rss_kib_per_connection && ed.idle.rss_kib_per_connection <= node.idle.rss_kib_per_connection)],
  [`revoke-to-closed p99 ≤ 5 ms among ${connections} connections`, `${fmt(ed.revoke.p99_ms, 3)} ms (EdDSA), ${fmt(hs.revoke.p99_ms, 3)} ms (HS256)`,
    verdict(ed.revoke.p99_ms <= 5 && hs.revoke.p99_ms <= 5)],
  [`revoke-to-closed p99 ≤ 5 ms with ${loaded.load.logins_in_flight ?? 40} logins and ${loaded.load.refreshes_in_flight ?? 300} refreshes in flight`,
    `p50 ${fmt(loaded.revoke.p50_ms, 3)} ms, p99 ${fmt(loaded.revoke.p99_ms, 3)} ms, max ${fmt(loaded.revoke.max_ms, 3)} ms; meanwhile ${fmt(loaded.load.logins_per_second, 1)} logins/s and ${fmt(loaded.load.refreshes_per_second, 1)} refreshes/s${loaded.load.errors && Object.keys(loaded.load.errors).length ? ` (errors: ${JSON.stringify(loaded.load.errors)})` : ''}`,
    verdict(loaded.revoke.p99_ms <= 5)],
  ['RSS per idle WSS connection ≤ 16 KiB', `${fmt(wss.idle.rss_kib_per_connection)} KiB (the Node peer: ${fmt(nodeWss.idle.rss_kib_per_connection)} KiB)`,
    verdict(wss.idle.rss_kib_per_connection <= 16)],
  ['server CPU per WSS handshake ≤ 0.5 × the Node peer\'s', `${fmt(wss.handshake.server_cpu_ms_per_handshake, 4)} ms vs ${fmt(nodeWss.handshake.server_cpu_ms_per_handshake, 4)} ms = ${ratio(wss.handshake.server_cpu_ms_per_handshake, nodeWss.handshake.server_cpu_ms_per_handshake)}`,
    verdict(wss.handshake.server_cpu_ms_per_handshake <= 0.5 * nodeWss.handshake.server_cpu_ms_per_handshake)],
  [`${connections} concurrent connections held with snapshots running`, `${ed.hold.open ?? 'n/a'} open after ${fmt((ed.hold.held_ms ?? 0) / 1000, 0)} s; ${ed.snapshots.count ?? 0} snapshots, p50 ${fmt(ed.snapshots.p50_ms, 1)} ms, max ${fmt(ed.snapshots.max_ms, 1)} ms`,
    verdict(ed.hold.open >= Number(connections) && ed.handshake.failed === 0)],
  [`${connections} idle connections pinged every 5 s for ${fmt((pings.held_ms ?? 0) / 1000, 0)} s: every one answers and stays`,
    `${pings.still_open ?? 'n/a'} of ${pings.connections ?? 'n/a'} open; ${fmt(pings.server_cpu_us_per_ping, 2)} µs of server CPU per ping, ${fmt(pingCorePercent, 3)} % of a core at the default 25 s`,
    verdict(pings.connections > 0 && pings.still_open === pings.connections && pings.pings >= pings.connections)],
  [`an uninspected connection's message costs the same with inspectors open elsewhere ("zero cost")`,
    `${fmt(inspectCost.server_cpu_us_per_message_plain, 3)} µs per message with none, ${fmt(inspectCost.server_cpu_us_per_message_inspected, 3)} µs with ${inspectors.inspections ?? 'n/a'} connections inspected (${fmt(inspectCost.difference_percent, 1)} %; rounds without vary by ${fmt(inspectSpread, 1)} %)`,
    verdict(inspectCost.rounds > 0 && inspectors.inspections > 0 && Math.abs(inspectCost.difference_percent) <= inspectSpread)],
  [`console responsive with ${connections} connections coming and going: event-loop lateness p99 ≤ 50 ms`,
    `p50 ${fmt(consoleRun.loop.loop_late_p50_ms, 2)} ms, p99 ${fmt(consoleRun.loop.loop_late_p99_ms, 2)} ms, max ${fmt(consoleRun.loop.loop_late_max_ms, 1)} ms; ${consoleRun.loop.peak_connections_shown ?? 'n/a'} connections shown at the peak`,
    verdict(consoleRun.loop.loop_late_p99_ms <= 50 && consoleRun.loop.peak_connections_shown >= Number(connections))],
  [`remote console (gatehoused in another process, admin feed) as responsive: event-loop lateness p99 ≤ 50 ms`,
    `p50 ${fmt(remoteRun.loop.loop_late_p50_ms, 2)} ms, p99 ${fmt(remoteRun.loop.loop_late_p99_ms, 2)} ms, max ${fmt(remoteRun.loop.loop_late_max_ms, 1)} ms; ${remoteRun.loop.peak_connections_shown ?? 'n/a'} connections shown at the peak; ${feedLine(remoteRun.loop)}`,
    verdict(remoteRun.loop.loop_late_p99_ms <= 50 && remoteRun.loop.peak_connections_shown >= Number(connections)
      && !remoteRun.loop.feed_losses)],
];

process.stdout.write(`# Performance

Measured by \`tests/bench/run.sh\` (the numbers below are its output, regenerated by each run),
on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Linux ${release()}.
Gatehouse is the release build; the load client (\`tests/bench/loadclient.cpp\`, C++ and epoll)
runs on the same machine and measures from outside, reading the server's CPU time and RSS
from \`/proc/<pid>\`.

## How to run it

\`\`\`sh
bash tests/bench/run.sh                     # ${connections} connections, as below
CONNECTIONS=2000 bash tests/bench/run.sh    # a quicker look
PHASES=console bash tests/bench/run.sh      # the console phases only (results-console.jsonl)
\`\`\`

It builds \`gatehoused\` and the load client (release preset), installs the Node peer's pinned
packages (\`tests/bench/seed-peer/package-lock.json\`: \`ws\`, \`jsonwebtoken\`), prepares a data
directory, then runs the same scenarios against each server in turn:

1. **handshake**: ${connections} WebSocket connections, 256 in flight, each counted as done when the
   server's first message (the greeting) arrives;
2. **idle**: after 2 s of quiet, the server's RSS growth divided by the connections it holds;
3. **revoke**: while all are open, 10 more connections for each of ${hs.revoke.repeats ?? 'n/a'} users (10 devices each);
   per user, the time from sending the revocation request to the last of the 10 close frames;
4. **broadcast**: one admin request, timed to the last delivery, with the server's CPU per message;
5. **revoke under a burst** (Gatehouse only, \`gatehouse-loaded\`): while \`tests/bench/background-load.mjs\`
   keeps 40 logins (Argon2 each) and 300 refresh-token rotations in flight, 1 000 connections and
   the revocation repeats as in 3.; the throughput of the logins and refreshes is reported beside it.
   The load is closed-loop: each loop sends its next request when the last is answered, so a
   faster server is offered more (the refreshes take the machine's two cores);
6. **refused** (Gatehouse only, \`gatehouse-forged\`): the same ${connections} HS256 tokens with their
   signature's last character changed, every handshake refused with \`401\`; the server's CPU per
   refusal beside its CPU per accepted handshake. Refusals are counted in the metrics exactly and
   audited in aggregate (one event per reason a second), so a stranger cannot buy a synced disk
   write per attempt. Every scenario counts CPU from a quiet server (the load client waits for
   half a second without server CPU first), so the refusals are not charged for the accepted
   run's connections closing;
7. **pings** (Gatehouse only, \`gatehouse-pings\`): the ${connections} EdDSA connections held idle for
   ${fmt((pings.held_ms ?? 0) / 1000, 0)} s with pings an hour apart (\`ping_interval\` 3600), then, after \`PUT /admin/limits\`
   sets \`ping_interval\` and \`pong_timeout\` to 5 s, for ${fmt((pings.held_ms ?? 0) / 1000, 0)} s more; the load client answers every
   ping with a pong, as browsers do. The server's extra CPU time in the second hold, divided by
   the pings answered, is the cost of one ping: the sweep that finds the connection silent, the
   ping written, the pong read.

The servers:

- **gatehouse-hs256**: Gatehouse with HS256 tokens from a trusted external issuer, the tokens
  the Node peer also accepts (one distinct token per connection, so the per-thread cache of
  verified tokens never helps); revocation is \`POST /admin/users/{user}/revoke-before\`.
- **seed-node**: the seed's example (\`tests/bench/seed-peer/server.js\`: \`ws\` + \`jsonwebtoken\`,
  token in the query string) with the user→connections map the seed describes, so that a
  user's sockets can be closed (\`POST /revoke?user=\`) and everyone reached (\`POST /broadcast\`).
- **gatehouse-eddsa**: Gatehouse with its own default tokens (EdDSA), one session per device
  and each device's token shared by 10 tabs; revocation is \`POST /admin/users/{user}/revoke\`
  (single logout: the sessions are revoked on disk, then closed). While everything is held for
  ${fmt((ed.hold.held_ms ?? 0) / 1000, 0)} s, the whole connection list is fetched twice a second (\`GET /admin/connections\`, the
  same ConnectionHub path as the console's snapshots).

The console:

- **console**: the same EdDSA load against \`gatehouse-consolebench\` (\`tests/tools/consolebench.cpp\`):
  the console's real main window on the offscreen platform, Sessions tab shown with one user's
  tree open, its server embedded on its own threads. A 10 ms timer on the GUI thread measures how
  late the event loop runs while ${connections} connections open (${fmt(consoleRun.handshake.handshakes_per_second, 0)} handshakes/s), are
  held, revoked and broadcast to, and the console follows every change through its models.
- **console-remote**: the same window and load, the console attached (\`--connect\`, a viewer
  token) to a \`gatehoused serve\` in another process: a \`RemoteServer\` reads the admin feed
  (\`/admin/ws\`) and the models follow it. The run starts once the first snapshot is shown; the
  feed's bandwidth is its JSON messages' UTF-8 bytes (WebSocket framing not counted), averaged
  over the run and at the busiest second.

## Results

| | gatehouse-hs256 | seed-node | ratio | gatehouse-eddsa |
|---|---:|---:|---:|---:|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Over TLS (\`gatehouse-wss\`, \`seed-node-wss\`): the same HS256 tokens and ${wss.handshake.connections ?? 'n/a'} connections, both
servers on one P-256 certificate (TLS 1.3, X25519, ECDSA P-256), Gatehouse with \`--tls-cert\`,
the Node peer with \`https.createServer\`. The load client's TLS is OpenSSL, one session per
connection (no resumption).

| | gatehouse-wss | seed-node-wss | ratio |
|---|---:|---:|---:|
${tlsRows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Console under the same EdDSA load: ${fmt(consoleRun.handshake.handshakes_per_second, 0)} handshakes/s,
revoke-to-closed p99 ${fmt(consoleRun.revoke.p99_ms, 3)} ms, GUI event-loop lateness p50
${fmt(consoleRun.loop.loop_late_p50_ms, 2)} ms / p99 ${fmt(consoleRun.loop.loop_late_p99_ms, 2)} ms / max ${fmt(consoleRun.loop.loop_late_max_ms, 1)} ms over ${consoleRun.loop.samples ?? 0} samples.

Console attached to a gatehoused in another process, the same load: ${fmt(remoteRun.handshake.handshakes_per_second, 0)} handshakes/s,
revoke-to-closed p99 ${fmt(remoteRun.revoke.p99_ms, 3)} ms, GUI event-loop lateness p50
${fmt(remoteRun.loop.loop_late_p50_ms, 2)} ms / p99 ${fmt(remoteRun.loop.loop_late_p99_ms, 2)} ms / max ${fmt(remoteRun.loop.loop_late_max_ms, 1)} ms over ${remoteRun.loop.samples ?? 0} samples;
${fmt((remoteRun.loop.feed_bytes ?? NaN) / 1048576, 1)} MiB in ${remoteRun.loop.feed_messages ?? 'n/a'} messages over ${fmt(remoteRun.loop.feed_seconds, 0)} s: ${feedLine(remoteRun.loop)}.

One Ed25519 verification on this machine (\`openssl speed ed25519\`): ${fmt(ed25519, 4)} ms.

Pinging ${pings.connections ?? 'n/a'} idle connections: ${pings.pings ?? 'n/a'} pings answered in ${fmt((pings.held_ms ?? 0) / 1000, 0)} s, server CPU
${fmt(pings.server_cpu_ms_pinging, 1)} ms against ${fmt(pings.server_cpu_ms_quiet, 1)} ms in the quiet hold: **${fmt(pings.server_cpu_us_per_ping, 2)} µs per
ping**. At the default \`ping_interval\` of 25 s that is ${fmt(pingCorePercent, 3)} % of one core for ${pings.connections ?? 'n/a'}
idle connections (one sweep per I/O thread, no timer per connection); ${pings.still_open ?? 'n/a'} were still open
at the end.

The message inspector: ${inspectCost.rounds ?? 'n/a'} broadcasts to all ${connections} connections with no inspector open
took a median **${fmt(inspectCost.server_cpu_us_per_message_plain, 3)} µs** of server CPU per delivered message (rounds from
${fmt(inspectCost.plain_min, 3)} to ${fmt(inspectCost.plain_max, 3)}); with ${inspectors.inspections ?? 'n/a'} of the connections inspected through the admin
feed, **${fmt(inspectCost.server_cpu_us_per_message_inspected, 3)} µs** (${fmt(inspectCost.inspected_min, 3)} to ${fmt(inspectCost.inspected_max, 3)}), ${fmt(inspectCost.difference_percent, 1)} %. The feed was open
through both, and its inspections brought ${inspectors.messages ?? 'n/a'} messages in ${inspectors.batches ?? 'n/a'} batches (${inspectors.dropped ?? 'n/a'} dropped).
An uninspected connection's message pays one test of a null pointer (\`LiveConnection::m_tap\`);
the comparison is against the same binary, since a build without that test is not kept.

## Targets

| target | measured | |
|---|---|---|
${targets.map((r) => `| ${r.join(' | ')} |`).join('\n')}

## Reading the numbers

- Revoke under a burst: the revocation no longer waits for the control thread at all. The I/O
  thread that reads the request ends the sessions in memory and posts the closes to every I/O
  thread; the control thread, busy at 2 000+ refreshes a second with groups of rotations, their
  syncs (3–4 ms when the disk is slow) and logins' commits, only makes it durable and answers.
  Before that change (same load, 2026-11-30): p50 2.1 ms, p99 14.1 ms, the tail being the wait
  for that thread. Fixed on the way there: Argon2 workers now really run at nice 10, a refresh
  no longer waits for every I/O thread, the console feed's read of changed sessions went from
  20 ms to 1.6 ms, WAL checkpoints left the control thread, and rotations are committed in
  groups (refreshes served: 890/s before, 2 000–2 700/s after).

- Over TLS: the handshake's cost is the key exchange and the certificate signature (ECDHE
  X25519, ECDSA P-256), the same for both servers; Gatehouse adds little around it, Node its
  JavaScript.

- Memory per idle WSS connection is the plain connection (3.5 KiB) plus what OpenSSL keeps for an
  established connection. Counted by allocation site (\`CRYPTO_set_mem_functions\` in a scratch
  build, 4 000 idle connections, OpenSSL 3.0 of Debian 12), OpenSSL holds **13.6 KiB per
  connection** in 37 blocks: the \`SSL\` object itself 7.4 KiB, two AES-GCM contexts (one per
  direction) 1.9 KiB, the session 0.9 KiB, the handshake hashes 0.6 KiB, the client's and the
  server's X25519 keys 0.5 KiB (kept until \`SSL_free\`), the certificate structure copied per
  connection 0.5 KiB, and locks, stacks and the BIO the rest. The read and write buffers are
  already released when idle (\`SSL_MODE_RELEASE_BUFFERS\`), and the connection has one
  descriptor and no relay (the stream speaks TLS itself). The ≤ 16 KiB target would leave about
  2.4 KiB for the connection, less than the plain connection's 3.5 KiB: **it is not met, and it
  cannot be with OpenSSL's own per-connection state**. What would move it: kernel TLS (the kernel
  then holds the record keys, so the \`SSL\` could be freed after the handshake; the memory
  leaves the process's RSS rather than the machine, it needs the \`tls\` module, and a
  client's KeyUpdate could not be followed), or making the plain connection smaller.

- CPU time is the server process's user + system time across all its threads, divided by the
  work done; it does not depend on how many cores the work is spread over. On loopback it also
  includes the kernel's work of delivering the server's packets to the client (about half of
  Gatehouse's CPU per handshake is kernel time: accept, peek, one send of the 101 and the
  greeting, epoll). The Node peer pays the same.
- This machine is a small virtual machine, and its timings move from run to run, for both
  servers alike: see [performance-runs.md](performance-runs.md). In its slower phases the seed's
  Node server spends 1.3–1.6 ms per handshake and Gatehouse 0.11–0.13 ms (HS256), above the
  0.1 ms target; in faster ones 0.8–1.1 ms and 0.075–0.090 ms. The ratio to the Node peer
  (about 0.1×) is the steadier figure.
- The revoke-to-closed tail: with 60 repeats, timed at each step inside the server, the slow
  revocations (6–12 ms, one in ten) were requests that waited on the control thread while it
  read every session changed in the last 250 ms for the console feed, one query each; and
  listing one user's sessions scanned the table. Both are one indexed query now, and the
  tail went (see the runs of 2026-11-23 from 12:40). A descheduling of the VM's CPU still
  costs a few milliseconds when it happens.
- Revocation in Gatehouse takes effect before it is made durable, and is acknowledged after:
  the in-memory guard refuses the tokens and the sockets are closed first, then the revocation
  and its audit entry are committed (SQLite WAL, \`synchronous=FULL\`), then the admin's request
  returns. The Node peer keeps nothing.
- Memory per idle connection: Gatehouse keeps a small RFC 6455 stream object, the connection's
  record and its expiry timer; the kernel's socket buffers are not in either process's RSS.
- The snapshot figure is a full \`GET /admin/connections\` of all connections as JSON, taken on
  the control thread while the I/O threads keep serving; the console (issue 4) follows the
  coalesced change events instead and asks for a full snapshot only on demand.
`);
