// `presence run group-presence`: both halves of the group presence join in
// one process, each in its own consumer group (group-keyed and
// subscriber-keyed topics are partitioned differently).
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import { startGroupPresenceProcessor, type ProcessorHooks } from './groupPresenceProcessor.ts';
import { startMemberGroupsProcessor } from './memberGroupsProcessor.ts';

type GroupPresenceServiceOptions = Partial<ProcessorHooks>;

export async function startGroupPresence(s: Settings, o: GroupPresenceServiceOptions = {}) {
  const hooks: ProcessorHooks = { ...o, memberId: o.memberId ?? `${os.hostname()}-${process.pid}` };
  const members = await startMemberGroupsProcessor(s, hooks);
  let groups;
  try {
    groups = await startGroupPresenceProcessor(s, hooks);
  } catch (e) {
    await members.processor.stop();
    throw e;
  }
  return {
    groups,
    members,
    /** Resolves when either half stops; rejects with the error that stopped it. */
    done: () => Promise.race([groups.processor.done(), members.processor.done()]),
    async stop() {
      await Promise.all([groups.processor.stop(), members.processor.stop()]);
    },
  };
}

export type GroupPresenceService = Awaited<ReturnType<typeof startGroupPresence>>;
