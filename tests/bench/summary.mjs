// One line per benchmark run for docs/performance-runs.md: the headline numbers, so that the
// run-to-run spread of this machine stays visible next to the latest run.
// Usage: node tests/bench/summary.mjs RESULTS.jsonl DATE
import { readFileSync } from 'node:fs';

const [file, date] = process.argv.slice(2);
const results = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const get = (scenario, label, key) => results.find((r) => r.scenario === scenario && r.label === label)?.[key];
const f = (value, digits) => (value === undefined ? 'n/a' : Number(value).toFixed(digits));
console.log(`| ${date} | ${f(get('handshake', 'gatehouse-hs256', 'server_cpu_ms_per_handshake'), 3)} | ${f(get('handshake', 'seed-node', 'server_cpu_ms_per_handshake'), 3)} | ${f(get('handshake', 'gatehouse-eddsa', 'server_cpu_ms_per_handshake'), 3)} | ${f(get('openssl', 'ed25519', 'verify_ms'), 3)} | ${f(get('idle', 'gatehouse-hs256', 'rss_kib_per_connection'), 2)} / ${f(get('idle', 'seed-node', 'rss_kib_per_connection'), 2)} | ${f(get('revoke', 'gatehouse-eddsa', 'p99_ms'), 2)} / ${f(get('revoke', 'gatehouse-hs256', 'p99_ms'), 2)} / ${f(get('revoke', 'seed-node', 'p99_ms'), 2)} | ${f(get('console', 'console', 'loop_late_p99_ms'), 2)} / ${f(get('console', 'console-remote', 'loop_late_p99_ms'), 2)} |`);
