// Every flag of a long-running command is also a setting (issue 14 item 4): a flag
// not given on the command line takes its setting's value — environment, then
// config file, then the setting's default (config/settings.ts `roles`) — before the
// action runs, so the action reads one value whatever its source, and
// `presence config show` names where it came from.
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config/settings.ts';

/** `values` maps option keys (camelCase, as commander names them) to their settings; undefined: the command's own default. */
export function flagsFromSettings(cmd: Command, values: (s: Settings) => Record<string, string | number | undefined>): Command {
  return cmd.hook('preAction', (_hooked, action) => {
    const s = loadSettings();
    for (const [key, v] of Object.entries(values(s)))
      if (v !== undefined && action.getOptionValueSource(key) === undefined) action.setOptionValueWithSource(key, String(v), 'config');
  });
}
