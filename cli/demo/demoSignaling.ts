// Bundled demo signaling: a small deterministic day in a network (attach,
// calls, SMS, detach) for N subscribers, as decoded signaling events.
import type { SignalingEvent } from '../../schemas/generated/records.ts';

export function demoSignaling(subscribers: number, runId: string): SignalingEvent[] {
  const out: SignalingEvent[] = [];
  const t0 = Date.UTC(2026, 0, 1, 8);
  for (let i = 0; i < subscribers; i++) {
    const msisdn = `+35191${String(1_000_000 + i).slice(1)}`;
    const imsi = `00101${String(1_000_000_000 + i).slice(1)}`;
    const subscriber = `msisdn:${msisdn}`;
    const base = (frame: number, protocol: string, message: string, kind: string): SignalingEvent => ({
      eventId: `demo-${runId}/${i}/${frame}`,
      time: t0 + i * 1000 + frame * 60_000,
      subscriber,
      identities: { imsi, msisdn, aor: null },
      protocol,
      message,
      kind,
      source: { tap: 'demo', capture: null, frame },
      map: null,
      isup: null,
      sip: null,
    });
    out.push(base(1, 'map', 'updateLocation', 'invoke'));
    out.push(base(2, 'map', 'insertSubscriberData', 'invoke'));
    if (i % 2 === 0) out.push(base(3, 'isup', 'IAM', 'message'), base(4, 'isup', 'ANM', 'message'), base(5, 'isup', 'REL', 'message'));
    if (i % 3 === 0) out.push(base(6, 'map', 'purgeMS', 'invoke'));
  }
  return out;
}
