// availability-profiles: a subscriber's profiles changed (issue 16 part 6; the
// availability service relays each committed change through its outbox). The
// record carries the profiles, so no database lookup: presence is published again
// with them (current-presence's connectability), the presence watchers whose
// connectability differs from what the previous profiles gave are notified, and the
// next rule boundary is re-armed. The version applied is kept in the subscriber's
// state (its changelog): a repeat or an older record (the relay is at-least-once)
// changes nothing, also after the partition moved to another member.
import type { UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import { parseUserProfiles, ProfileValidationError } from '../../../subscriber/availability/profileValidation.ts';
import type { TopicHandler } from './context.ts';
import { publishPresence } from './presenceChange.ts';

/** The JSON document of a record field, validated as stored profiles are (a bad one is bad input: dead-lettered). */
function profilesField(field: string, json: string): UserProfiles {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ProfileValidationError(field, `not JSON: ${(err as Error).message}`);
  }
  try {
    return parseUserProfiles(raw);
  } catch (err) {
    if (err instanceof ProfileValidationError) throw new ProfileValidationError(`${field}.${err.field}`, err.message.slice(err.field.length + 2));
    throw err;
  }
}

export const profileChanges: TopicHandler = {
  topic: 'availability-profiles',
  // The record carries them.
  needsAvailability: false,
  async handle(ctx, p, key, value, m, out) {
    const change = await ctx.serde.decode('availability-profiles', value);
    if (change.subscriber !== key) throw new ProfileValidationError('subscriber', `${change.subscriber} is not the record key ${key}`);
    if (change.version <= m.profilesVersion) {
      ctx.stats.profileRepeats++;
      return false;
    }
    const profiles = profilesField('profiles', change.profiles);
    const previous = change.previous === null ? null : profilesField('previous', change.previous);
    ctx.stats.profileChanges++;
    ctx.availability.set(key, profiles);
    ctx.profilesApplied(key, profiles);
    m.profilesVersion = change.version;
    // The presence clock, as a SUBSCRIBE's first NOTIFY uses: what watchers are told is computed on one clock.
    publishPresence(ctx, key, m, ctx.clock(p), `profiles-v${change.version}`, out, undefined, previous);
    return true;
  },
};
