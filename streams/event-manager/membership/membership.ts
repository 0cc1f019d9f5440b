// An event manager's membership in the coordinator's view: its MemberReports,
// naming its SIP contact when the caller runs a SIP front end for it
// (front-end/memberFrontEnd.ts, wired by `run event-manager --sip-port`), so
// a SUBSCRIBE redirected or proxied to the owner is accepted there. Hooked into
// eventManager.ts: count() where records are processed, timed() around each
// batch, assignmentChanged() from the rebalance callbacks.
import type { Settings } from '../../../config/settings.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { PartitionRestore } from '../../../schemas/generated/records.ts';
import { topicName } from '../../../schemas/topology.ts';
import { RecordProducer } from '../../../kafka/recordProducer.ts';
import { LoadMeter } from './loadMeter.ts';
import { MemberReporter } from './memberReporter.ts';

export interface MembershipOptions {
  /** SIP URI of a front end that takes this member's SUBSCRIBEs, advertised in its reports. */
  sipContact?: string;
  /** Its SIP over TLS contact (sips:), advertised beside sipContact for watchers that must stay on TLS. */
  sipsContact?: string;
  httpUrl?: string;
  /** Seconds between reports. Default: settings (PRESENCE_MEMBER_REPORT_INTERVAL, 5 s). */
  reportIntervalMs?: number;
  capacityEventsPerSecond?: number;
  /** Restores in progress, reported while they run (the event manager passes its processor's). */
  restoring?: () => PartitionRestore[];
}

export interface Membership {
  readonly meter: LoadMeter;
  readonly reporter: MemberReporter;
  readonly sipContact: string | null;
  readonly sipsContact: string | null;
  assignmentChanged(): void;
  /** Before leaving the group: publish leaving=true (the caller stops its SIP front end first). */
  leave(): Promise<void>;
  /** After leaving the group: tombstone, release the producer. */
  close(): Promise<void>;
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
  const sipContact = o.sipContact ?? null;
  const sipsContact = o.sipsContact ?? null;
  const producer = new RecordProducer(s.kafka.brokers, `event-manager-${memberId}-reports`, 10_000);
  await producer.connect();
  const reporter = new MemberReporter({
    memberId,
    topic: topicName(s.topics.prefix, 'event-manager-members'),
    serde,
    producer,
    meter,
    owned,
    sipContact,
    sipsContact,
    httpUrl: o.httpUrl ?? null,
    capacityEventsPerSecond: o.capacityEventsPerSecond ?? 0,
    ...(o.restoring ? { restoring: o.restoring } : {}),
    intervalMs: o.reportIntervalMs ?? s.eventManager.memberReportIntervalS * 1000,
    ...(log ? { log } : {}),
  });
  await reporter.start();
  if (sipContact) log?.(`event manager ${memberId}: SIP contact ${sipContact}${sipsContact ? `, SIPS contact ${sipsContact}` : ''}`);
  return {
    meter,
    reporter,
    sipContact,
    sipsContact,
    assignmentChanged: () => reporter.assignmentChanged(),
    async leave() {
      await reporter.leave();
    },
    async close() {
      await reporter.forget();
      await producer.close();
    },
  };
}
