// The KIP-848 server-side assignors an event manager can ask the broker for
// (group.remote.assignor). "load" is ours (infra/assignor): the broker's
// coordinator places partitions by the load event managers report.
export const GROUP_ASSIGNORS = {
  range: 'partition p of every co-partitioned input topic to the same member, balanced by count (the default)',
  uniform: 'balanced by count per topic-partition, sticky; does NOT keep co-partitioned topics together (comparison only)',
  load: 'partition numbers placed by reported load (events/s), sticky, co-partitioned; needs the broker built by `presence stack up`',
} as const;

export type GroupAssignor = keyof typeof GROUP_ASSIGNORS;

export function parseGroupAssignor(value: string, what = 'assignor'): GroupAssignor {
  if (Object.hasOwn(GROUP_ASSIGNORS, value)) return value as GroupAssignor;
  throw new Error(`${what} must be one of ${Object.keys(GROUP_ASSIGNORS).join(', ')}, not "${value}"`);
}

/**
 * The client.rack a member sets for an assignor. The broker sees a KIP-848
 * member only by its generated UUID, instance id and rack, so with "load" the
 * member's stable id goes in client.rack: that is how the assignor matches the
 * member to its MemberReports (a single-rack cluster has no rack-aware
 * placement to disturb). Other assignors: no rack.
 */
export function rackFor(assignor: GroupAssignor, memberId: string): string | undefined {
  return assignor === 'load' ? memberId : undefined;
}
