import { describe, expect, it } from 'vitest';
import type { SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import type { EventManager } from './eventManager.ts';
import { memberReadiness } from './eventManagerMetrics.ts';

const member = (h: { running: boolean; live: number[]; restoring: number[]; split: number[] }) =>
  ({ processor: { health: () => ({ joined: true, ...h }) } }) as unknown as EventManager;
const frontEnd = (notReadyReason: string | undefined) => ({ notReadyReason }) as unknown as SipFrontEnd;
const live = member({ running: true, live: [0, 1], restoring: [], split: [] });

describe("the member's readiness", () => {
  it('is the event manager alone without an embedded SIP front end', () => {
    expect(memberReadiness(live)).toMatchObject({ ok: true, details: { partitions: [0, 1] } });
    expect(memberReadiness(member({ running: true, live: [], restoring: [3], split: [] }))).toMatchObject({ ok: false, reason: 'restoring partitions 3' });
  });

  it('with --sip-port needs the embedded front end ready too: a member whose front end cannot reach Kafka leaves rotation', () => {
    expect(memberReadiness(live, { frontEnd: frontEnd(undefined) })).toMatchObject({
      ok: true,
      details: { eventManager: { ready: true }, sipFrontEnd: { ready: true } },
    });
    const down = memberReadiness(live, { frontEnd: frontEnd('Kafka at k:9092 does not answer') });
    expect(down.ok).toBe(false);
    expect(down.reason).toBe('sipFrontEnd: Kafka at k:9092 does not answer');
    expect(memberReadiness(live, { frontEnd: undefined })).toMatchObject({ ok: false, reason: 'sipFrontEnd: starting: not listening yet' });
    // Both not ready: both reasons, each named.
    expect(memberReadiness(undefined, { frontEnd: frontEnd('x') }).reason).toBe(
      'eventManager: starting: connecting to Kafka and joining the group; sipFrontEnd: x',
    );
  });
});
