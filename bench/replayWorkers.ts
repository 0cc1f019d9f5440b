// Benchmark: `presence replay` of several captures in one process and in
// `--workers N` processes side by side (issue 15.6: the taps on the second
// core), with the subscriber directory, into Kafka on the local stack.
//   npx tsx bench/replayWorkers.ts
//   BENCH_FILES=2 BENCH_WORKERS=2 BENCH_SUBSCRIBERS=100000 BENCH_SECONDS=300 size it.
// Each capture is our own generator's traffic for the same subscribers (other seeds).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSettings } from '../config/settings.ts';
import { applyTopology } from '../kafka/applyTopology.ts';
import { cleanupIsolated } from '../test/support/isolatedStack.ts';
import { SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { generateToPcap } from '../tools/generator/generate.ts';
import { provisionGenerated } from '../tools/generator/directoryEntries.ts';

const FILES = Number(process.env.BENCH_FILES ?? 2);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 300);

const s = loadSettings();
const prefix = `bench-replay-workers-${Date.now().toString(36)}.`;
const bs = { ...s, topics: { ...s.topics, prefix } };
const dir = mkdtempSync(path.join(tmpdir(), 'bench-replay-workers-'));
const files = Array.from({ length: FILES }, (_, i) => path.join(dir, `generated-${i + 1}.pcap`));
try {
  await applyTopology(bs);
  for (const [i, out] of files.entries()) await generateToPcap({ subscribers: SUBSCRIBERS, durationSeconds: SECONDS, seed: 100 + i, out });
  // The directory `presence replay` consults (the settings' database, default schema).
  const directory = new SubscriberDirectory(s.database.url);
  await directory.migrate();
  await provisionGenerated(directory, SUBSCRIBERS);
  await directory.close();
  console.log(`${FILES} generated captures of ${SUBSCRIBERS.toLocaleString('en')} subscribers × ${SECONDS} s; directory provisioned`);
  for (const workers of [1, WORKERS]) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['bin/presence.mjs', 'replay', '--workers', String(workers), ...files], {
      env: { ...process.env, PRESENCE_TOPIC_PREFIX: prefix },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`replay --workers ${workers} failed: ${r.stderr.slice(-500)}`);
    // The summary's last line: events and the rate over the slowest worker's run.
    const published = /^published .*$/m.exec(r.stderr)?.[0] ?? '(no summary)';
    console.log(`replay --workers ${workers}: ${published}; wall ${wall.toFixed(1)} s (process start included)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  // Topics and registry subjects of the bench's prefix.
  await cleanupIsolated(bs);
}
