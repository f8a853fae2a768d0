// Writes docs/conformance.md from two Autobahn reports of one run (tests/tools/conformance.sh
// report): Gatehouse's echo and the npm ws library's, side by side.
//   node conformance-report.mjs GATEHOUSE_INDEX_JSON WS_INDEX_JSON WS_VERSION \
//                               [GATEHOUSE_PINNED_INDEX_JSON WS_PINNED_INDEX_JSON]
// (the pinned pair: 9.7.* and 9.8.* again, servers and client on one CPU)
// Every verdict other than OK must have an explanation below; one without is printed as
// "not explained yet", for whoever regenerates the page to write.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [oursPath, wsPath, wsVersion = '?', oursPinnedPath, wsPinnedPath] = process.argv.slice(2);
const load = (path) => {
    const index = JSON.parse(readFileSync(path, 'utf8'));
    const cases = Object.values(index)[0] ?? {};
    return { dir: dirname(path), cases };
};
const ours = load(oursPath);
const ws = load(wsPath);
const pinned = oursPinnedPath && wsPinnedPath ? { ours: load(oursPinnedPath), ws: load(wsPinnedPath) } : null;

const order = (a, b) => {
    const x = a.split('.').map(Number);
    const y = b.split('.').map(Number);
    for (let i = 0; i < Math.max(x.length, y.length); ++i)
        if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
};
const ids = [...new Set([...Object.keys(ours.cases), ...Object.keys(ws.cases)])].sort(order);
const verdicts = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'FAILED', 'UNIMPLEMENTED'];
const count = (report, filter = () => true) => {
    const counts = Object.fromEntries(verdicts.map((v) => [v, 0]));
    let closeFailed = 0;
    let duration = 0;
    for (const [id, c] of Object.entries(report.cases)) {
        if (!filter(id)) continue;
        counts[c.behavior] = (counts[c.behavior] ?? 0) + 1;
        if (c.behavior !== 'FAILED' && ['FAILED', 'UNCLEAN'].includes(c.behaviorClose)) ++closeFailed;
        duration += c.duration;
    }
    return { counts, closeFailed, duration };
};
const detail = (report, id) => {
    const c = report.cases[id];
    if (!c) return null;
    try {
        return JSON.parse(readFileSync(join(report.dir, c.reportfile), 'utf8'));
    } catch {
        return null;
    }
};

// Why a verdict is not OK, for each case that is not OK in either report.
const explanations = {
    '6.4.1': 'A text message in three fragments whose second fragment makes it invalid UTF-8 (a code point beyond U+10FFFF), with a second\'s wait between fragments. "Strict" is failing at the second fragment. Both validate a text message once it is whole, so the close with 1007 comes when the third fragment arrives. The message is refused either way and never reaches the application; the cost is buffering up to `max_message_size` of a message that is already known to be bad.',
    '6.4.2': 'As 6.4.1, the invalid byte being the first of the second fragment: the same close with 1007, one wait later than strict.',
    '6.4.3': 'As 6.4.1, but the three parts are pieces of one frame. Both read a frame whole before looking at its payload (its mask and length come first, and a frame is at most `max_message_size`), so the close with 1007 comes when the frame is complete.',
    '6.4.4': 'As 6.4.3, the invalid byte first in the second piece: the same close with 1007 at the end of the frame.',
    '7.1.6': 'A 256 KiB message, a short one, a close and a ping, back to back. RFC 6455 leaves it to the implementation whether the messages are answered before the close; the suite marks every outcome INFORMATIONAL. Both echo the two messages, then the close (1000), and ignore the ping that came after the close (§5.5.1).',
    '7.13.1': 'A close with code 5000, outside every range RFC 6455 §7.4 defines: "undefined by the spec", so INFORMATIONAL whatever the answer. Both answer 1002 (protocol error), as they do for every code §7.4 does not allow.',
    '7.13.2': 'As 7.13.1 with code 65535: 1002.',
};

const oursTotal = count(ours);
const wsTotal = count(ws);
const row = (name, t) =>
    `| ${name} | ${verdicts.map((v) => t.counts[v]).join(' | ')} | ${t.closeFailed} | ${(t.duration / 1000).toFixed(1)} s |`;
const lines = [];
const out = (line = '') => lines.push(line);

out('# WebSocket conformance');
out();
out('Gatehouse speaks RFC 6455 through a stream of its own ([architecture](architecture.md)), and pays');
out('for that choice with the standard conformance suite, the Autobahn|Testsuite');
out('(`../shared/tools/autobahn/`, ported to Debian 12\'s Python 3), cases 1.* to 7.*, 9.* and 10.*:');
out('framing, pings, reserved bits, opcodes, fragmentation, UTF-8, closing, limits and performance,');
out('auto-fragmentation (12.* and 13.* are compression, which Gatehouse does not negotiate).');
out();
out('**What is tested.** `gatehouse-conformance-echo` (`tests/tools/conformanceecho.cpp`) serves `/ws`');
out('through the production path: an I/O thread with its epoll dispatcher, its `UpgradeGate` (the');
out('head peeked at, the checks run in order), a `WebSocketStream` on the descriptor and');
out('`WebSocketFrame`\'s codec. In place of the session protocol it echoes every message, text as');
out('text and binary as binary (the stream\'s binary path is an option the session protocol leaves');
out('off: it keeps closing binary with 1008). The limits are lifted to what the suite sends: 16 MiB');
out('messages (fragments are not counted), and up to 64 MiB of output waiting. Plain TCP only:');
out('Gatehouse has no TLS listener yet; when it has, the same harness runs over it.');
out();
out('**Authentication.** The suite sends one fixed header (`AUTOBAHN_HEADERS`). The gate runs its');
out('checks as in production, with an authenticator that accepts exactly `Authorization: Bearer');
out('<token>` (a random token per run) and refuses anything else with 401. No key, store or session');
out('is involved: the suite judges framing, and tokens have their own tests (`tst_tokenverifier`,');
out('`tst_josecrosscheck`, the JOSE fuzzer).');
out();
out('**In CI.** `ctest -L conformance` (part of `scripts/test.sh`, the AddressSanitizer build) runs the');
out('suite against the harness and fails on any FAILED, CLOSE-FAILED or missing case, or when the');
out('harness does not stop cleanly (a sanitizer report). This page comes from a release build and');
out('the reference in the same run: `bash tests/tools/conformance.sh report` (do not edit it by hand).');
out();
out('## Score');
out();
out(`| server | ${verdicts.join(' | ')} | CLOSE-FAILED | time in cases |`);
out(`|---|${verdicts.map(() => '---:').join('|')}|---:|---:|`);
out(row('Gatehouse', oursTotal));
out(row(`ws ${wsVersion} (\`maxFragments\` lifted)`, wsTotal));
out();
out('By category:');
out();
const categories = {
    1: 'Framing', 2: 'Pings/Pongs', 3: 'Reserved bits', 4: 'Opcodes', 5: 'Fragmentation', 6: 'UTF-8',
    7: 'Close handling', 9: 'Limits/performance', 10: 'Auto-fragmentation',
};
const brief = (t) => verdicts.filter((v) => t.counts[v] > 0).map((v) => `${v} ${t.counts[v]}`).join(', ');
out('| category | Gatehouse | ws |');
out('|---|---|---|');
for (const [n, name] of Object.entries(categories)) {
    const inCategory = (id) => id.split('.')[0] === n;
    out(`| ${n}. ${name} | ${brief(count(ours, inCategory))} | ${brief(count(ws, inCategory))} |`);
}
out();
out('## Verdicts other than OK');
out();
const notOk = ids.filter((id) =>
    [ours, ws].some((r) => r.cases[id] && (r.cases[id].behavior !== 'OK' || r.cases[id].behaviorClose !== 'OK')));
const verdict = (report, id) => {
    const c = report.cases[id];
    if (!c) return 'missing';
    const close = c.behaviorClose !== 'OK' && c.behaviorClose !== c.behavior ? ` (close ${c.behaviorClose})` : '';
    return `${c.behavior}${close}, ${c.remoteCloseCode ?? '-'}`;
};
if (notOk.length === 0) out('None.');
else {
    out('Verdict and the close code each server sent.');
    out();
    out('| case | Gatehouse | ws | why |');
    out('|---|---|---|---|');
    for (const id of notOk)
        out(`| ${id} | ${verdict(ours, id)} | ${verdict(ws, id)} | ${explanations[id] ?? '**not explained yet**'} |`);
}
out();
out('## 9.* Limits and performance, in the same run');
out();
out('Milliseconds per case as the suite measures them, from the opening handshake to the closed');
out('connection (the client is the same Python for both, and takes its share of the time). Release');
out('build of Gatehouse; Node for ws; one machine, which other work may share.');
if (pinned) {
    out();
    out('9.7.* and 9.8.* are a thousand round trips of one small message each: they measure how soon a');
    out('server wakes up and answers, and on a machine with few CPUs that depends on where the');
    out('scheduler puts the client and the server (Gatehouse answers on an I/O thread of its own, ws on');
    out('Node\'s one thread) as much as on the server. So they ran a second time with both servers and');
    out('the client on one CPU (`taskset -c 0`): the "one CPU" columns.');
}
out();
const pinnedHead = pinned ? ' Gatehouse, one CPU | ws, one CPU |' : '';
out(`| case | what the client sends | Gatehouse ms | ws ms |${pinnedHead}`);
out(`|---|---|---:|---:|${pinned ? '---:|---:|' : ''}`);
for (const id of ids.filter((id) => id.startsWith('9.'))) {
    const d = detail(ours, id) ?? detail(ws, id);
    const what = (d?.description ?? '').replace(/<br>/g, ' ').replace(/\s+/g, ' ').replace(/\|/g, '/').trim();
    const again = pinned ? ` ${pinned.ours.cases[id]?.duration ?? ''} | ${pinned.ws.cases[id]?.duration ?? ''} |` : '';
    out(`| ${id} | ${what} | ${ours.cases[id]?.duration ?? '-'} | ${ws.cases[id]?.duration ?? '-'} |${again}`);
}
const nine = (r, prefix = '9.') =>
    Object.entries(r.cases).filter(([id]) => id.startsWith(prefix)).reduce((s, [, c]) => s + c.duration, 0);
out(`| **all 9.*** | | **${nine(ours)}** | **${nine(ws)}** |${pinned ? ' | |' : ''}`);
if (pinned) {
    const roundTrips = (r) => nine(r, '9.7.') + nine(r, '9.8.');
    out(`| **9.7.* and 9.8.*** | | **${roundTrips(ours)}** | **${roundTrips(ws)}** | **${roundTrips(pinned.ours)}** | **${roundTrips(pinned.ws)}** |`);
}
process.stdout.write(lines.join('\n') + '\n');
