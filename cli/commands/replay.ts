// `presence replay FILE... [--speed N|max] [--unknown drop|keep] [--no-directory] [--workers N]`
import { statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { checkMemberId } from '../../kafka/memberIdentity.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { formatSummary } from '../../taps/decodeCapture.ts';
import { parseSpeed } from '../../taps/replay/pacer.ts';
import { captureInput, captureInputSpec } from '../../taps/inputs/captureInput.ts';
import { runTap, type TapSummary } from '../../taps/pipeline/tapPipeline.ts';
import { replayWithWorkers } from './replayWorkers.ts';
import { progress } from '../progress.ts';

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description(
      'replay capture files (pcap, pcapng, NetMon 2.x, .gz) into Kafka: decoded signaling events keyed by subscriber, bad input to the dead-letter topic',
    )
    .argument('<files...>', captureInputSpec.fields.file.description)
    .option('--speed <n>', "pace: 1 = the capture's own timing, 10 = ten times faster, max = as fast as possible", 'max')
    .option(
      '--unknown <policy>',
      'identities not in the subscriber directory: drop (counted) or keep (under their own key); default from PRESENCE_UNKNOWN_SUBSCRIBERS',
    )
    .option('--no-directory', 'do not consult the subscriber directory: every identity is keyed by itself')
    .option('--country-code <cc>', 'home country calling code for national numbers')
    .option(
      '--member-id <id>',
      'stable replay id (its transactional id): a replay run again under the same id after a crash fences the crashed one instead of leaving readers to wait out its open transaction (default: host and pid, one per run)',
    )
    .option(
      '--workers <n>',
      'replay the files in N processes side by side (files split by size; one core each, each its own transactional id: --member-id ID gives ID-w1…)',
      '1',
    )
    .addOption(new Option('--summary-json', 'print the summary as JSON on stdout (how --workers collects its workers)').hideHelp())
    .action(async (files: string[], opts: ReplayCliOptions) => {
      const clientId = opts.memberId === undefined ? undefined : checkMemberId(opts.memberId);
      const s = loadSettings();
      const unknown = opts.unknown ?? s.identity.unknownSubscribers;
      if (unknown !== 'drop' && unknown !== 'keep') throw new Error(`--unknown must be drop or keep, not ${unknown}`);
      const workers = Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer, not ${opts.workers}`);
      if (workers > 1 && files.length > 1) {
        const args = [
          '--speed',
          opts.speed,
          '--unknown',
          unknown,
          ...(opts.directory ? [] : ['--no-directory']),
          ...(opts.countryCode ? ['--country-code', opts.countryCode] : []),
        ];
        const sum = await replayWithWorkers(files, {
          workers,
          args,
          ...(clientId ? { memberId: clientId } : {}),
          log: (line) => process.stderr.write(`${line}\n`),
        });
        reportSummary(sum, unknown, opts.summaryJson === true);
        return;
      }
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      await directory?.migrate();
      const bar = progress('replay', undefined);
      try {
        const onTruncated = (file: string, msg: string) => process.stderr.write(`\nwarning: ${file} ends inside a record (${msg})\n`);
        const inputs = files.map((f) => captureInput(f, onTruncated));
        // Share of the bytes read over all files (stdin has no end: no share, no ETA).
        const sizes = files.map((f) => (f === '-' ? 0 : statSync(f).size));
        const totalBytes = sizes.reduce((a, b) => a + b, 0);
        const share = () =>
          files.includes('-') || totalBytes === 0 ? undefined : inputs.reduce((n, input, i) => n + (input.progress?.() ?? 0) * sizes[i]!, 0) / totalBytes;
        const sum = await runTap(s, inputs, {
          tap: 'replay',
          ...(clientId ? { clientId } : {}),
          speed: parseSpeed(opts.speed),
          unknown,
          directory,
          countryCode: opts.countryCode,
          onProgress: (frames, events) => bar.update(frames, `frames, ${events} events published`, share()),
        });
        bar.finish(sum.frames, 'frames');
        reportSummary(sum, unknown, opts.summaryJson === true);
      } finally {
        await directory?.close();
      }
    });
}

interface ReplayCliOptions {
  speed: string;
  unknown?: string;
  directory: boolean;
  countryCode?: string;
  memberId?: string;
  workers: string;
  summaryJson?: boolean;
}

function reportSummary(sum: TapSummary, unknown: string, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(sum)}\n`);
    return;
  }
  process.stderr.write(`${formatSummary(sum)}\n`);
  process.stderr.write(
    `published ${sum.events} signaling events (${Math.round(sum.events / Math.max(sum.seconds, 0.001))}/s), ${sum.deadLetters} dead letters; ` +
      `parties not our subscribers: ${sum.notSubscriber} (${unknown === 'drop' ? 'dropped' : 'kept'}), without identity: ${sum.noIdentity}; pairs learned: ${sum.learned}\n`,
  );
}
