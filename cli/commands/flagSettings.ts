// Every flag of a long-running command is also a setting (issue 14 item 4): a flag
// not given on the command line takes its setting's value — environment, then
// config file, then the setting's default (config/settings.ts `roles`) — before the
// action runs, so the action reads one value whatever its source, and
// `presence config show` names where it came from.
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config/settings.ts';

export type FlagValues = (s: Settings) => Record<string, string | number | boolean | undefined>;

/** Which flags each command fills from settings: flagSettings.test.ts walks the program and fails on a flag that has none. */
const registered = new WeakMap<Command, FlagValues>();

/** The settings-backed flag values of `cmd`, as `settings` give them (undefined: the command was never wired). */
export function flagSettingsOf(cmd: Command, settings: Settings): Record<string, string | number | boolean | undefined> | undefined {
  return registered.get(cmd)?.(settings);
}

/** `values` maps option keys (camelCase, as commander names them) to their settings; undefined: the command's own default. */
export function flagsFromSettings(cmd: Command, values: FlagValues): Command {
  registered.set(cmd, values);
  return cmd.hook('preAction', (_hooked, action) => {
    const s = loadSettings();
    for (const [key, v] of Object.entries(values(s))) {
      // 'default' too: a commander default (e.g. --stats-interval 10, or true for --no-x) is the setting's own default, which env/file may change.
      const source = action.getOptionValueSource(key);
      if (v === undefined || (source !== undefined && source !== 'default')) continue;
      // Booleans stay booleans: the string 'false' would read as true.
      action.setOptionValueWithSource(key, typeof v === 'boolean' ? v : String(v), 'config');
    }
  });
}

/** A flag holding a whole number from `min` to `max`, or a clear error naming the flag. */
export function whole(name: string, v: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${name} must be a whole number >= ${min}, not ${v}`);
  if (Number(v) > max) throw new Error(`${name} must be a whole number up to ${max}, not ${v}`);
  return Number(v);
}
