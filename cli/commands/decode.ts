// `presence decode FILE... [--json]`
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { decodeCaptures, formatSummary, signalJson } from '../../taps/decodeCapture.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';

export function registerDecodeCommand(program: Command): void {
  program
    .command('decode')
    .description('decode capture files (pcap, pcapng, NetMon 2.x, .gz) without Kafka: one JSON object per signaling message on stdout, a summary on stderr')
    .argument('<files...>', "capture files; '-' reads a pcap stream from stdin")
    .option('--json', 'write one JSON object per decoded message (per TCAP component) to stdout', false)
    .option('--country-code <cc>', 'home country calling code for national numbers (overrides PRESENCE_COUNTRY_CODE)')
    .action(async (files: string[], opts: { json: boolean; countryCode?: string }) => {
      const s = loadSettings();
      const plan = numberingPlan(s, opts.countryCode);
      const out = process.stdout;
      let broken = 0;
      const summary = await decodeCaptures(
        files,
        plan,
        {
          signal: (sig) => {
            if (opts.json) out.write(`${JSON.stringify(signalJson(sig))}\n`);
          },
          failure: () => {},
        },
        (file, msg) => process.stderr.write(`warning: ${file} ends inside a record (${msg}); frames before it were decoded\n`),
        // A record that cannot be parsed: what came before it is printed, the rest of that file cannot be (no record boundary).
        (file, msg) => {
          broken++;
          process.stderr.write(`error: ${file}: ${msg}; frames before it were decoded, the rest of the file was not\n`);
        },
      );
      process.stderr.write(`${formatSummary(summary)}\n`);
      if (broken > 0) process.exitCode = 1;
    });
}
