// `presence profiles set|show|activate|list`: a subscriber's availability
// profiles (issue 16) in PostgreSQL presence.availability_profiles — set from a
// JSON file (validated, the first bad field named), shown with what a given
// watcher would get now (or at --at), activated with an optional manual mode.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { keyOf } from '../../coordinator/locator.ts';
import { withAvailabilityStore } from './availability.ts';
import { activeProfile, listDecision, modeAt, type UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { ProfileValidationError } from '../../subscriber/availability/profileValidation.ts';

function readJson(file: string): unknown {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProfileValidationError('(file)', `${file} is not JSON: ${(err as Error).message}`);
  }
}

/** When `--at` is given: an ISO 8601 instant with its offset or Z (local times would be ambiguous). */
export function parseInstant(raw: string | undefined, now = Date.now()): number {
  if (raw === undefined) return now;
  if (!/(Z|[+-]\d\d:?\d\d)$/.test(raw)) throw new Error(`--at must be an ISO 8601 instant with Z or an offset, not ${raw}`);
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new Error(`--at is not a date: ${raw}`);
  return t;
}

/** What `show` prints about the evaluation: the active profile and mode for the requester, and the next change. */
export function evaluation(p: UserProfiles, at: number, requester: string | undefined): Record<string, unknown> {
  const profile = activeProfile(p);
  const { mode, nextChangeAt } = modeAt(profile, at, requester);
  return {
    at: new Date(at).toISOString(),
    requester: requester ?? '(anonymous)',
    profile: profile.name,
    lists: listDecision(profile.lists, requester),
    mode: mode.name,
    state: mode.state,
    nextChangeAt: nextChangeAt === undefined ? null : new Date(nextChangeAt).toISOString(),
  };
}

export function registerProfilesCommands(program: Command): void {
  const pr = program
    .command('profiles')
    .description("subscribers' availability profiles (PostgreSQL presence.availability_profiles): modes, calendar rules, contact lists, activation");
  pr.command('set')
    .description('replace the subscriber’s profiles with those of a JSON file (- for stdin); see subscriber/availability/README.md')
    .argument('<subscriber>', 'MSISDN, IMSI, sip:/tel: URI or subscriber key')
    .argument('<file>')
    .action(async (subscriber: string, file: string) => {
      const key = await keyOf(loadSettings(), subscriber);
      const raw = readJson(file);
      const stored = await withAvailabilityStore((a) => a.setProfiles(key, raw));
      process.stdout.write(`${key}: ${stored.profiles.length} profile(s), active ${stored.active}\n`);
    });
  pr.command('show')
    .description('the profiles as stored (or the earlier settings as a default profile), and what a watcher gets now')
    .argument('<subscriber>')
    .option('--as <watcher>', 'evaluate for this watcher or caller URI (default: anonymous)')
    .option('--at <instant>', 'evaluate at this ISO 8601 instant (default: now)')
    .action(async (subscriber: string, o: { as?: string; at?: string }) => {
      const key = await keyOf(loadSettings(), subscriber);
      const at = parseInstant(o.at);
      const p = (await withAvailabilityStore((a) => a.getMany([key]))).get(key)!;
      process.stdout.write(`${JSON.stringify({ subscriber: key, evaluation: evaluation(p, at, o.as), ...p }, null, 2)}\n`);
    });
  pr.command('activate')
    .description('make a profile the active one; --mode sets its manual mode (wins over the rules), --clear-mode clears it')
    .argument('<subscriber>')
    .argument('<profile>')
    .option('--mode <mode>', 'manual mode of that profile')
    .option('--clear-mode', 'back to the calendar rules')
    .action(async (subscriber: string, profile: string, o: { mode?: string; clearMode?: boolean }) => {
      if (o.mode && o.clearMode) throw new Error('--mode and --clear-mode exclude each other');
      const key = await keyOf(loadSettings(), subscriber);
      const p = await withAvailabilityStore((a) => a.activate(key, profile, o.clearMode ? null : o.mode));
      process.stdout.write(`${key}: active ${p.active}${activeProfile(p).manualMode ? `, manual mode ${activeProfile(p).manualMode}` : ''}\n`);
    });
  pr.command('list')
    .description('the profile names, the active one marked, with their modes')
    .argument('<subscriber>')
    .action(async (subscriber: string) => {
      const key = await keyOf(loadSettings(), subscriber);
      const p = (await withAvailabilityStore((a) => a.getMany([key]))).get(key)!;
      for (const x of p.profiles)
        process.stdout.write(
          `${x.name === p.active ? '*' : ' '} ${x.name} (${x.timeZone}): ${x.modes.map((m) => m.name).join(', ')}${x.manualMode ? ` [manual: ${x.manualMode}]` : ''}\n`,
        );
    });
}
