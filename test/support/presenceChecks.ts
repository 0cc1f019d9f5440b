// What exactly-once tests check of current-presence: per subscriber the versions 1..n each
// once (a leaked or repeated batch would repeat or skip one), and the part of a presence a
// watcher sees, to compare runs (not when it was computed).
import type { Presence } from '../../schemas/generated/records.ts';

/** What a watcher sees of a presence (not when it was computed). */
export const visiblePresence = (p: Presence) => ({
  basic: p.basic,
  networkState: p.networkState,
  callState: p.callState,
  connectability: p.connectability,
  servingNode: p.servingNode,
  cellGlobalId: p.cellGlobalId,
  activities: p.activities,
  note: p.note,
});

/** Subscribers whose versions in `presence` (in topic order) are not 1..n each once, as "key: 1,2,2,3". */
export function versionsNotOnceEach(presence: readonly Presence[]): string[] {
  const versions = new Map<string, number[]>();
  for (const p of presence) versions.set(p.subscriber, [...(versions.get(p.subscriber) ?? []), p.version]);
  return [...versions].filter(([, vs]) => vs.some((v, i) => v !== i + 1)).map(([k, vs]) => `${k}: ${vs.join(',')}`);
}
