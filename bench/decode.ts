// Benchmark: tap decoding throughput on the bench captures, next to tshark's
// own rate on the same file in the same run, and end-to-end replay into Kafka.
//   npx tsx bench/decode.ts            (needs ../shared/captures; tshark optional;
//                                       the replay part needs `presence stack up`)
// Prints messages/s on one core (Node is single-threaded here) for each file.
import { execFileSync } from 'node:child_process';
import { loadSettings } from '../config/settings.ts';
import { decodeCaptures } from '../connectors/taps/decodeCapture.ts';
import { replayCaptures } from '../connectors/taps/replay/replayCaptures.ts';
import { applyTopology } from '../schemas/applyTopology.ts';
import { withAdmin } from '../streams/runtime/kafkaAdmin.ts';
import { capture, haveCaptures, haveTshark, noCapturesReason } from '../test/support/captures.ts';

if (!haveCaptures) {
  console.error(noCapturesReason);
  process.exit(1);
}

const FILES = [
  { file: 'bench/sigtran-tcap-load.pcap.gz', filter: 'tcap' },
  { file: 'bench/sipp-register-invite-load.pcapng', filter: 'sip' },
];
const plan = { countryCode: '' };

async function ours(file: string): Promise<{ messages: number; seconds: number; rssMb: number }> {
  // One warm-up pass: JIT and caches, as a long-running tap would be.
  await decodeCaptures([capture(file)], plan, { signal: () => {}, failure: () => {} });
  const t = process.hrtime.bigint();
  const sum = await decodeCaptures([capture(file)], plan, { signal: () => {}, failure: () => {} });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { messages: sum.signals, seconds, rssMb: Math.round(process.memoryUsage().rss / 1048576) };
}

function tsharkRate(file: string, filter: string): { messages: number; seconds: number } | undefined {
  if (!haveTshark) return undefined;
  const t = process.hrtime.bigint();
  const out = execFileSync('tshark', ['-r', capture(file), '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { messages: out.split('\n').filter(Boolean).length, seconds };
}

const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en');

console.log(`# decode throughput (node ${process.version}, ${new Date().toISOString()})`);
for (const { file, filter } of FILES) {
  const o = await ours(file);
  const t = tsharkRate(file, filter);
  console.log(
    `${file}: presence decode ${o.messages} messages in ${o.seconds.toFixed(2)}s = ${rate(o.messages, o.seconds)} msg/s (RSS ${o.rssMb} MiB)` +
      (t ? `; tshark -Y ${filter}: ${t.messages} frames in ${t.seconds.toFixed(2)}s = ${rate(t.messages, t.seconds)} frames/s` : '; tshark not installed'),
  );
}

const s = loadSettings();
const prefix = `bench-replay-${Date.now().toString(36)}.`;
const bs = { ...s, topics: { ...s.topics, prefix } };
try {
  await applyTopology(bs);
  for (const { file } of FILES) {
    const r = await replayCaptures(bs, [capture(file)], { speed: Infinity, unknown: 'keep', batchSize: 2000 });
    console.log(`${file}: replay into Kafka ${r.signals} messages → ${r.events} events in ${r.seconds.toFixed(2)}s = ${rate(r.events, r.seconds)} events/s (acks=all, idempotent)`);
  }
} catch (err) {
  console.log(`replay into Kafka skipped: ${(err as Error).message} (run \`presence stack up\`)`);
} finally {
  await withAdmin(bs.kafka.brokers, async (a) => {
    const mine = (await a.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length) await a.deleteTopics({ topics: mine });
  }).catch(() => {});
  for (const subj of ((await (await fetch(`${s.registry.url}/subjects`).catch(() => undefined))?.json().catch(() => [])) ?? []) as string[]) {
    if (!subj.startsWith(prefix)) continue;
    await fetch(`${s.registry.url}/subjects/${subj}`, { method: 'DELETE' });
    await fetch(`${s.registry.url}/subjects/${subj}?permanent=true`, { method: 'DELETE' });
  }
}
