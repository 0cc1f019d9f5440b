// The reg-event agent (3GPP Pi, RFC 3680) run by an event-manager member, for
// the IMS subscribers whose partitions that member owns: the owner of a
// subscriber owns its reg dialog, and the dialog moves with the partition on
// rebalance (regEventOwnership.ts). The agent publishes to signaling-events like
// a tap, outside the event manager's transactions, acknowledged before it
// answers a NOTIFY 200; a publisher that fails for good is reported through
// `failed` so the member stops instead of running on deaf to registrations.
import type { Settings } from '../../config/settings.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import { acknowledgedSink } from '../../taps/reg-event/acknowledgedSink.ts';
import { RegEventAgent } from '../../taps/reg-event/regEventAgent.ts';
import { readRegSubscribers, registeredKeyResolver, registrarAddress } from '../../taps/reg-event/regSubscribers.ts';
import { SignalingPublisher } from '../../taps/signalingPublisher.ts';
import { RegEventOwnership } from './regEventOwnership.ts';

export interface MemberRegEventOptions {
  readonly memberId: string;
  /** The partitions the member's event manager owns now (EventManager.processor.assignments fits). */
  readonly owned: () => readonly { partition: number }[];
  /** Keys the listed identities; without it each identity is keyed by itself. */
  readonly directory?: SubscriberDirectory;
  /** The publisher failed for good (the member should stop). */
  readonly failed?: (err: Error) => void;
  readonly log?: (line: string) => void;
  /** How often ownership is checked against the assignment. Default 1 s. */
  readonly ownershipIntervalMs?: number;
}

export interface MemberRegEvent {
  readonly agent: RegEventAgent;
  /** Every listed subscriber (this member watches those of its partitions). */
  readonly provisioned: number;
  stop(): Promise<void>;
}

/** Whether the settings ask for the member's reg-event agent: a registrar and an identities file. Half of it is a mistake, said at start. */
export function regEventConfigured(s: Settings): boolean {
  const { registrar, identitiesFile } = s.eventManager.regEvent;
  if ((registrar === undefined) !== (identitiesFile === undefined))
    throw new Error(
      `the event manager's reg-event agent needs both PRESENCE_REG_EVENT_REGISTRAR and PRESENCE_REG_EVENT_IDENTITIES (eventManager.regEvent.*); only ${registrar === undefined ? 'the identities file' : 'the registrar'} is set`,
    );
  return registrar !== undefined;
}

export async function startMemberRegEvent(s: Settings, o: MemberRegEventOptions): Promise<MemberRegEvent> {
  const r = s.eventManager.regEvent;
  if (r.registrar === undefined || r.identitiesFile === undefined)
    throw new Error('the reg-event agent needs PRESENCE_REG_EVENT_REGISTRAR and PRESENCE_REG_EVENT_IDENTITIES (eventManager.regEvent.*)');
  const registrar = registrarAddress(r.registrar, 'PRESENCE_REG_EVENT_REGISTRAR');
  const plan = numberingPlan(s);
  const subscribers = await readRegSubscribers(r.identitiesFile, plan, registeredKeyResolver(o.directory), (aor) =>
    o.log?.(`reg-event: skipping ${aor}: not a subscriber`),
  );
  const publisher = new SignalingPublisher(s, `reg-event-${o.memberId}`);
  await publisher.connect();
  let agent: RegEventAgent;
  try {
    agent = await RegEventAgent.start({
      host: r.host,
      port: r.port,
      registrar: { transport: 'udp', ...registrar },
      watcher: r.watcher,
      plan,
      expiresS: r.expiresS,
      sink: acknowledgedSink(publisher, o.failed),
    });
  } catch (err) {
    await publisher.close().catch(() => undefined);
    throw err;
  }
  const ownership = new RegEventOwnership({
    agent,
    subscribers,
    partitions: s.topics.partitions,
    owned: o.owned,
    ...(o.ownershipIntervalMs !== undefined ? { intervalMs: o.ownershipIntervalMs } : {}),
  });
  o.log?.(
    `reg-event agent on udp ${r.host}:${agent.port}: ${subscribers.length} IMS subscribers listed, those of the owned partitions SUBSCRIBEd at ${r.registrar}`,
  );
  return {
    agent,
    provisioned: subscribers.length,
    async stop() {
      // No new dialogs first, then end ours at the registrar (the next owner opens its own), then the publisher.
      await ownership.stop();
      await agent.close();
      await publisher.close().catch(() => undefined);
    },
  };
}
