// A processing member's stable identity. Everything that must survive a
// restart of the member — its static group membership (group.instance.id) and
// its transactional id, which fences a crashed or paused predecessor — is
// derived from one member id, never from the pid: a restarted member with a
// new pid would fence nobody, and read_committed readers would wait for the
// predecessor's open transaction to time out.
import os from 'node:os';

/**
 * The default member id: `<hostname>-<role>-<index>`. Stable across restarts
 * on the same host; members of one role on one host need distinct indexes
 * (a second process with the same id takes the first one's place).
 */
export function defaultMemberId(role: string, index = 1): string {
  if (!Number.isInteger(index) || index < 1) throw new Error(`the member index must be a whole number >= 1, not ${index}`);
  return `${os.hostname()}-${role}-${index}`;
}

/** Checks a member id given on the command line: it names Kafka ids, so no blanks or control characters. */
export function checkMemberId(id: string, what = '--member-id'): string {
  if (!/^[A-Za-z0-9._:-]{1,200}$/.test(id)) throw new Error(`${what} must be 1-200 letters, digits, '.', '_', ':' or '-', not "${id}"`);
  return id;
}

/**
 * The member id a command runs under: `--member-id` when given (checked), else the
 * default of its role and `--member-index` (a whole number >= 1, given as a flag's text).
 */
export function memberIdOf(role: string, memberId: string | undefined, memberIndex: string | number = 1): string {
  if (memberId !== undefined) return checkMemberId(memberId);
  if (!/^\d+$/.test(String(memberIndex))) throw new Error(`--member-index must be a whole number >= 1, not ${memberIndex}`);
  return defaultMemberId(role, Number(memberIndex));
}

export interface MemberIds {
  clientId: string;
  /** group.instance.id: static membership, unique within the group. */
  instanceId: string;
  /** transactional.id: unique within the cluster, so it carries the topic prefix and the role. */
  transactionalId: string;
}

export function memberIds(topicPrefix: string, role: string, memberId: string): MemberIds {
  return { clientId: `${role}-${memberId}`, instanceId: memberId, transactionalId: `${topicPrefix}${role}-${memberId}` };
}
