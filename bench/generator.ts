// One-off throughput check: `npx tsx bench/generator.ts [subscribers] [seconds] [out]`.
// Prints packets/s written and peak RSS, so regressions in the hot path show.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { generateToPcap } from '../tools/generator/generate.ts';

const subscribers = Number(process.argv[2] ?? 1_000_000);
const durationSeconds = Number(process.argv[3] ?? 60);
const out = process.argv[4] ?? path.join(tmpdir(), `generator-bench-${process.pid}.pcap`);
let peakRss = 0;
const cpu0 = process.cpuUsage();
const s = await generateToPcap({ subscribers, durationSeconds, seed: 1, out }, () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
});
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const cpu = process.cpuUsage(cpu0);
// CPU time is the steadier figure on a shared machine.
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
if (!process.argv[4]) rmSync(out, { force: true });
console.log(
  `${subscribers} subscribers, ${durationSeconds} s simulated: ${s.packets} packets (${(s.bytes / 1e6).toFixed(1)} MB) in ${s.elapsedSeconds.toFixed(2)} s = ` +
    `${Math.round(s.packets / s.elapsedSeconds)} packets/s wall, ${Math.round(s.packets / cpuSeconds)} packets per CPU second; peak RSS ${Math.round(peakRss / 1e6)} MB`,
);
console.log(JSON.stringify(s.byProtocol));
