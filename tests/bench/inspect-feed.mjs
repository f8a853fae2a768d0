// Opens message inspectors through the admin feed, for the benchmark's inspect_cost scenario
// (tests/bench/run.sh): it attaches to /admin/ws with the admin token (ADMIN_TOKEN) at once, so
// that the feed itself costs the server the same with and without inspectors, and follows the
// live connections; once <ready>.waiting appears it inspects the first --count of them, and makes
// <ready> when each inspection is open. It counts what the inspections then bring until
// SIGTERM, and prints that as one JSON line.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const require = createRequire(new URL('./seed-peer/', import.meta.url));
const WebSocket = require('ws');

const { values } = parseArgs({
    options: {
        port: { type: 'string' },
        count: { type: 'string', default: '16' },
        ready: { type: 'string' },
        label: { type: 'string', default: 'gatehouse' },
    },
});
const count = Number(values.count);
const token = process.env.ADMIN_TOKEN;
if (!values.port || !values.ready || !token) {
    console.error('usage: ADMIN_TOKEN=… node inspect-feed.mjs --port P --ready FILE [--count N]');
    process.exit(2);
}

const seen = { inspections: 0, batches: 0, messages: 0, dropped: 0, bytes: 0 };
let feed;

function finish() {
    console.log(JSON.stringify({ scenario: 'inspectors', label: values.label, ...seen }));
    if (feed) feed.terminate();
    process.exit(0);
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);

const live = new Set();
let asked = false;

function inspect() {
    asked = true;
    const ids = [...live].sort((a, b) => Number(a) - Number(b)).slice(0, count);
    if (ids.length < count) {
        console.error(`only ${ids.length} live connections to inspect`);
        process.exit(1);
    }
    for (const [n, id] of ids.entries())
        feed.send(JSON.stringify({ type: 'action', id: `inspect-${n}`, action: 'inspect', connection: id }));
}

feed = new WebSocket(`ws://127.0.0.1:${values.port}/admin/ws`, {
    headers: { Authorization: `Bearer ${token}` },
    perMessageDeflate: false,
});
feed.on('message', (data) => {
    seen.bytes += data.length;
    const message = JSON.parse(data.toString());
    if (message.type === 'connections') {
        for (const connection of message.connections) live.add(connection.id);
    } else if (message.type === 'connections_changed') {
        for (const connection of message.opened) live.add(connection.id);
        for (const connection of message.closed) live.delete(connection.id);
    } else if (message.type === 'outcome' && message.action === 'inspect') {
        if (!message.ok) {
            console.error(`inspect refused: ${message.error}`);
            process.exit(1);
        }
        if (++seen.inspections === count)
            fs.writeFileSync(values.ready, '');
    } else if (message.type === 'inspected') {
        seen.batches += 1;
        seen.messages += message.messages.length;
        seen.dropped += message.dropped;
    }
});
feed.on('error', (error) => {
    console.error(`admin feed: ${error.message}`);
    process.exit(1);
});

const waiting = setInterval(() => {
    if (!asked && fs.existsSync(`${values.ready}.waiting`)) {
        clearInterval(waiting);
        inspect();
    }
}, 100);
