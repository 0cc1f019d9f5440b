// Benchmark: tap decoding throughput on the bench captures, next to tshark's
// own rate on the same file in the same run, and end-to-end replay into Kafka.
//   npx tsx bench/decode.ts            (needs ../shared/captures; tshark optional;
//                                       the replay part needs `presence stack up`)
//   BENCH_SUBSCRIBERS=100000 BENCH_SECONDS=300 size the generated-traffic part.
// Prints messages/s on one core (Node is single-threaded here) for each file.
import { execFileSync } from 'node:child_process';
import { loadSettings } from '../config/settings.ts';
import { decodeCaptures } from '../taps/decodeCapture.ts';
import { replayCaptures } from '../taps/replay/replayCaptures.ts';
import { runTap } from '../taps/pipeline/tapPipeline.ts';
import { generatorSource } from '../tools/generator/generatorSource.ts';
import { generatePackets } from '../tools/generator/generate.ts';
import { provisionGenerated } from '../tools/generator/directoryEntries.ts';
import { SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import pg from 'pg';
import { applyTopology } from '../kafka/applyTopology.ts';
import { withAdmin } from '../kafka/kafkaAdmin.ts';
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
const GEN_SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100_000);
const GEN_SECONDS = Number(process.env.BENCH_SECONDS ?? 300);

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
  const out = execFileSync('tshark', ['-r', capture(file), '-Y', filter, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
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
    console.log(
      `${file}: replay into Kafka ${r.signals} messages → ${r.events} events in ${r.seconds.toFixed(2)}s = ${rate(r.events, r.seconds)} events/s (acks=all, idempotent)`,
    );
  }
  // Generated traffic has identities on every message: the full taps path, with and without the directory.
  const gen = { subscribers: GEN_SUBSCRIBERS, durationSeconds: GEN_SECONDS, seed: 3 };
  {
    const t = process.hrtime.bigint();
    let n = 0;
    for (const _ of generatePackets(gen)) n++;
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(
      `generator: ${GEN_SUBSCRIBERS.toLocaleString('en')} subscribers, ${GEN_SECONDS}s window: ${n} packets in ${secs.toFixed(2)}s = ${rate(n, secs)} packets/s`,
    );
  }
  {
    const r = await runTap(bs, [generatorSource(gen)], { tap: 'generator', speed: Infinity, unknown: 'keep', batchSize: 2000 });
    console.log(
      `generated → decode → Kafka, no directory: ${r.signals} messages → ${r.events} events in ${r.seconds.toFixed(2)}s = ${rate(r.events, r.seconds)} events/s`,
    );
  }
  {
    const schema = `bench_directory_${process.pid}`;
    const directory = new SubscriberDirectory(s.database.url, schema, GEN_SUBSCRIBERS * 3);
    try {
      await directory.migrate();
      const tp = process.hrtime.bigint();
      await provisionGenerated(directory, GEN_SUBSCRIBERS);
      console.log(`directory: provisioned ${GEN_SUBSCRIBERS.toLocaleString('en')} subscribers in ${(Number(process.hrtime.bigint() - tp) / 1e9).toFixed(1)}s`);
      const r = await runTap(bs, [generatorSource(gen)], { tap: 'generator', speed: Infinity, unknown: 'drop', directory, batchSize: 2000 });
      console.log(
        `generated → decode → directory (PostgreSQL, cached) → Kafka: ${r.signals} messages → ${r.events} events in ${r.seconds.toFixed(2)}s = ${rate(r.events, r.seconds)} events/s; ` +
          `${directory.stats.queries} directory queries for ${directory.stats.lookups} lookups`,
      );
    } finally {
      await directory.close();
      const c = new pg.Client(s.database.url);
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
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
