import { describe, expect, it } from 'vitest';
import { TOPICS } from '../../schemas/topology.ts';
import { copiedTopics, renamedGroup } from './repartition.ts';

describe('repartition plan', () => {
  it('copies every compacted topic but the member reports, and no delete-policy topic', () => {
    const copied = copiedTopics().map((t) => t.name);
    expect(copied).toContain('event-manager-presence-store-changelog');
    expect(copied).toContain('group-presence-store-changelog');
    expect(copied).toContain('directory-changes');
    expect(copied).not.toContain('event-manager-members');
    for (const t of TOPICS) if (t.cleanupPolicy === 'delete') expect(copied).not.toContain(t.name);
    expect(copied).toHaveLength(TOPICS.filter((t) => t.cleanupPolicy === 'compact').length - 1);
  });

  it('carries groups under the old prefix to the new one, and no others', () => {
    expect(renamedGroup('presence.presence-event-managers', 'presence.', 'presence.v2.')).toBe('presence.v2.presence-event-managers');
    expect(renamedGroup('connect-presence-current', 'presence.', 'presence.v2.')).toBeUndefined();
  });
});
