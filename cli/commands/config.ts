// `presence config show | example`: every setting in force and its origin;
// a config file with every key at its default.
import type { Command } from 'commander';
import { exampleConfig, formatRows, settingRows } from '../../config/settingsReport.ts';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the settings in force and where each comes from');
  config
    .command('show')
    .description('every setting: environment variable, config-file key, origin (env, file, default) and value in force; secrets masked')
    .option('--json', 'one JSON array instead of a table')
    .action((opts: { json?: boolean }) => {
      const { rows, configFile } = settingRows();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ configFile: configFile ?? null, settings: rows }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`config file: ${configFile ?? '(none: set PRESENCE_CONFIG or create ./presence.config.json)'}\n`);
      process.stdout.write(`${formatRows(rows).join('\n')}\n`);
    });
  config
    .command('example')
    .description('a presence.config.json with every key at its default (secrets null: give them as { "file": PATH } or { "env": NAME })')
    .action(() => {
      process.stdout.write(`${JSON.stringify(exampleConfig(), null, 2)}\n`);
    });
}
