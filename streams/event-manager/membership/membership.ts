// An event manager's membership in the coordinator's view: its own SIP
// contact (an embedded stateless SIP front end, so a SUBSCRIBE redirected or
// proxied to the owner is accepted there) and its MemberReports. Hooked into
// eventManager.ts: count() where records are processed, timed() around each
// batch, assignmentChanged() from the rebalance callbacks.
import os from 'node:os';
import type { Settings } from '../../../config/settings.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../../connectors/sip/frontEnd/sipFrontEnd.ts';
import type { SubscriberDirectory } from '../../../connectors/taps/directory/subscriberDirectory.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import { topicName } from '../../../schemas/topology.ts';
import { RecordProducer } from '../../runtime/recordProducer.ts';
import { LoadMeter } from './loadMeter.ts';
import { MemberReporter } from './memberReporter.ts';

export interface MembershipOptions {
  /** Run an embedded SIP front end on this port (0: any free port) and advertise it as sipContact. */
  sipPort?: number;
  /** Address it listens on. Default 127.0.0.1. */
  sipHost?: string;
  /** Host put in the advertised contact, when the listening address is not reachable as such (0.0.0.0, NAT). */
  advertisedHost?: string;
  /** Subscriber directory for the embedded front end's keys (use the same as the other front ends). */
  directory?: SubscriberDirectory;
  httpUrl?: string;
  /** Seconds between reports. Default: settings (PRESENCE_MEMBER_REPORT_INTERVAL, 5 s). */
  reportIntervalMs?: number;
  capacityEventsPerSecond?: number;
}

export interface Membership {
  readonly meter: LoadMeter;
  readonly reporter: MemberReporter;
  /** The embedded SIP front end, when --sip-port was given. */
  readonly sipFrontEnd: SipFrontEnd | undefined;
  readonly sipContact: string | null;
  assignmentChanged(): void;
  /** Before leaving the group: stop taking SUBSCRIBEs, publish leaving=true. */
  leave(): Promise<void>;
  /** After leaving the group: tombstone, release the producer. */
  close(): Promise<void>;
}

function contactHost(listen: string, advertised?: string): string {
  const h = advertised ?? (listen === '0.0.0.0' || listen === '::' ? os.hostname() : listen);
  return h.includes(':') ? `[${h}]` : h;
}

export async function startMembership(
  s: Settings,
  memberId: string,
  serde: RecordSerde,
  owned: () => Map<number, number>,
  o: MembershipOptions = {},
  log?: (line: string) => void,
): Promise<Membership> {
  const meter = new LoadMeter();
  let sipFrontEnd: SipFrontEnd | undefined;
  if (o.sipPort !== undefined) {
    sipFrontEnd = await startSipFrontEnd(s, {
      host: o.sipHost ?? '127.0.0.1',
      port: o.sipPort,
      frontEndId: `event-manager-${memberId}`,
      mode: 'stateless',
      ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}),
      ...(o.directory ? { directory: o.directory } : {}),
      ...(log ? { log } : {}),
    });
  }
  const sipContact = sipFrontEnd ? `sip:${contactHost(sipFrontEnd.host, o.advertisedHost)}:${sipFrontEnd.port}` : null;
  const producer = new RecordProducer(s.kafka.brokers, `event-manager-${memberId}-reports`, 10_000);
  try {
    await producer.connect();
  } catch (err) {
    await sipFrontEnd?.stop();
    throw err;
  }
  const reporter = new MemberReporter({
    memberId,
    topic: topicName(s.topics.prefix, 'event-manager-members'),
    serde,
    producer,
    meter,
    owned,
    sipContact,
    httpUrl: o.httpUrl ?? null,
    capacityEventsPerSecond: o.capacityEventsPerSecond ?? 0,
    intervalMs: o.reportIntervalMs ?? s.eventManager.memberReportIntervalS * 1000,
    ...(log ? { log } : {}),
  });
  await reporter.start();
  if (sipContact) log?.(`event manager ${memberId}: SIP contact ${sipContact} (stateless front end)`);
  return {
    meter,
    reporter,
    sipFrontEnd,
    sipContact,
    assignmentChanged: () => reporter.assignmentChanged(),
    async leave() {
      await sipFrontEnd?.stop();
      await reporter.leave();
    },
    async close() {
      await reporter.forget();
      await producer.close();
    },
  };
}
