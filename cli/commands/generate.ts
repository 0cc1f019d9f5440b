// `presence generate`: realistic MAP/ISUP/SIP traffic for N subscribers,
// written as a pcap (which tshark decodes) or published straight to Kafka.
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { formatSummary } from '../../taps/decodeCapture.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { generatorSource } from '../../tools/generator/generatorSource.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import { parseSpeed } from '../../taps/replay/pacer.ts';
import { generateToPcap } from '../../tools/generator/generate.ts';
import { provisionGenerated } from '../../tools/generator/directoryEntries.ts';
import { progress } from '../progress.ts';

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return n;
}

interface GenerateCliOptions {
  subscribers: string;
  duration: string;
  seed: string;
  out?: string;
  toKafka?: boolean;
  provision?: boolean;
  speed: string;
  countryCode: string;
  mcc: string;
  mnc: string;
  powerCycle?: string;
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('generate realistic MAP, ISUP and SIP traffic for N subscribers: to a pcap file (--out) or straight into Kafka (--to-kafka)')
    .option('--subscribers <n>', 'number of subscribers', '1000')
    .option('--duration <seconds>', 'simulated time span', '600')
    .option('--seed <n>', 'random seed (same seed, same bytes)', '1')
    .option('--out <file.pcap>', 'write a pcap file')
    .option('--to-kafka', 'decode the generated packets and publish signaling events, as `presence replay` would')
    .option('--provision', 'with --to-kafka: first add the generated subscribers to the subscriber directory')
    .option('--speed <n>', 'with --to-kafka: pace (1 = real time) or max', 'max')
    .option('--country-code <cc>', 'country calling code of the MSISDNs', '999')
    .option('--mcc <mcc>', 'IMSI mobile country code', '001')
    .option('--mnc <mnc>', 'IMSI mobile network code', '01')
    .option('--power-cycle <seconds>', 'mean handset on/off cycle (short values give more attach/detach in a short window)')
    .action(async (o: GenerateCliOptions) => {
      if (!o.out && !o.toKafka) throw new Error('say where the traffic goes: --out FILE.pcap and/or --to-kafka');
      const gen = {
        subscribers: positiveInt('--subscribers', o.subscribers),
        durationSeconds: positiveInt('--duration', o.duration),
        seed: Number(o.seed),
        countryCode: o.countryCode,
        mcc: o.mcc,
        mnc: o.mnc,
        ...(o.powerCycle ? { mix: { powerCycleSeconds: positiveInt('--power-cycle', o.powerCycle) } } : {}),
      };
      if (o.out) {
        const bar = progress(`generate → ${o.out}`, undefined);
        const sum = await generateToPcap({ ...gen, out: o.out }, (p) => bar.update(p.packets, 'packets', p.simulatedSeconds / p.durationSeconds));
        bar.finish(sum.packets, `packets, ${(sum.bytes / 1e6).toFixed(1)} MB, ${sum.subscribersSeen} subscribers active`);
        for (const [proto, byMsg] of Object.entries(sum.byMessage)) {
          const top = Object.entries(byMsg)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 8)
            .map(([m, n]) => `${m} ${n}`)
            .join(', ');
          process.stderr.write(`  ${proto}: ${top}\n`);
        }
      }
      if (o.toKafka) {
        const s = loadSettings();
        const directory = new SubscriberDirectory(s.database.url);
        try {
          await directory.migrate();
          if (o.provision) {
            await provisionGenerated(directory, gen.subscribers, gen);
            process.stderr.write(`provisioned ${gen.subscribers} subscribers in the directory\n`);
          }
          const bar = progress('generate → kafka', undefined);
          const source = generatorSource(gen);
          const sum = await runTap(s, [source], {
            tap: 'generator',
            speed: parseSpeed(o.speed),
            unknown: s.identity.unknownSubscribers,
            directory,
            onProgress: (frames, events) => bar.update(frames, `packets, ${events} events`, source.progress?.()),
          });
          bar.finish(sum.frames, 'packets');
          process.stderr.write(
            `${formatSummary(sum)}\npublished ${sum.events} signaling events in ${sum.seconds.toFixed(1)}s, ${sum.deadLetters} dead letters, ${sum.notSubscriber} parties not in the directory\n`,
          );
        } finally {
          await directory.close();
        }
      }
    });
}
