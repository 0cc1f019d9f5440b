// The changelog record: a state survives Avro encoding with the real schema,
// and records written before the new fields existed still read (BACKWARD).
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroType, loadSchemas } from '../../../schemas/avroSchemas.ts';
import type { PresenceState, SignalingEvent } from '../../../schemas/generated/records.ts';
import { apply } from './derive.ts';
import { emptyPresence, type SubscriberPresence } from './model.ts';
import { renderPresence } from './presenceDocument.ts';
import { fromRecord, toRecord } from './stateRecord.ts';
import { isupEvent, mapEvent, pidfBody, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const SUB = 'msisdn:+15550001';
const T = Date.UTC(2026, 0, 1);
const schema = loadSchemas().get('PresenceState')!;
const type = avroType(schema);

function fold(events: SignalingEvent[]): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, undefined)!;
}

const rich = fold([
  mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '441122', mscNumber: '441122', opc: 1 }),
  mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 }),
  mapEvent(SUB, 'updateGprsLocation', 'invoke', T + 2, { sgsnNumber: '8613', opc: 9 }),
  mapEvent(SUB, 'anyTimeInterrogation', 'result', T + 3, { subscriberState: 'assumedIdle', cellGlobalId: '001-01-1-2', ageOfLocation: 3 }),
  mapEvent(SUB, 'mo-ForwardSM', 'invoke', T + 4),
  isupEvent(SUB, 'IAM', T + 5, { role: 'called', cic: 3 }),
  isupEvent(SUB, 'REL', T + 6, { role: 'called', cic: 4, cause: 16 }),
  sipResponse(SUB, 'REGISTER', 200, T + 7, { callId: 'r', contacts: ['sip:a@h;expires=60'] }),
  sipRequest(SUB, 'PUBLISH', T + 8, { callId: 'p', event: 'presence', contentType: 'application/pidf+xml', body: Buffer.from(pidfBody('n', 'away')) }),
  sipResponse(SUB, 'PUBLISH', 200, T + 9, { callId: 'p', etag: 'e', expires: 60 }),
  sipRequest(SUB, 'PUBLISH', T + 10, { callId: 'p', cseq: 2, ifMatch: 'e', event: 'presence' }),
]);

describe('PresenceState record', () => {
  it('a state with every facet filled survives toRecord → Avro → fromRecord', () => {
    expect(rich.network.pending).not.toBeNull();
    expect(rich.pendingPublishes).toHaveLength(1);
    const decoded = type.fromBuffer(type.toBuffer(toRecord(rich))) as PresenceState;
    const back = fromRecord(decoded);
    expect(back).toEqual(rich);
    expect(renderPresence(back)).toBe(renderPresence(rich));
  });

  it('carries the flat summary fields for readers without this code', () => {
    const r = toRecord(rich);
    expect(r).toMatchObject({ networkState: 'attached', servingNode: '441122', callState: 'alerting', networkSince: T + 1 });
  });

  it('a record written with the schema before the new fields reads with their defaults', () => {
    const oldSchema = { ...schema, fields: (schema.fields as Array<{ name: string }>).slice(0, 10) };
    expect((oldSchema.fields as Array<{ name: string }>).map((f) => f.name)).toEqual([
      'subscriber',
      'version',
      'networkState',
      'networkSince',
      'servingNode',
      'callState',
      'eventsSeen',
      'lastEventId',
      'lastEventTime',
      'updatedAt',
    ]);
    const oldType = avro.Type.forSchema(oldSchema as avro.Schema, { wrapUnions: false });
    const bytes = oldType.toBuffer({
      subscriber: SUB,
      version: 7,
      networkState: 'purged',
      networkSince: T,
      servingNode: '441122',
      callState: 'idle',
      eventsSeen: 3,
      lastEventId: 'x',
      lastEventTime: T,
      updatedAt: T,
    });
    const read = type.fromBuffer(bytes, type.createResolver(oldType)) as PresenceState;
    const s = fromRecord(read);
    expect(s).toEqual({
      ...emptyPresence(SUB),
      version: 7,
      updatedAt: T,
      eventsSeen: 3,
      lastEventId: 'x',
      lastEventTime: T,
      network: { ...emptyPresence(SUB).network, state: 'purged', since: T, mscNumber: '441122' },
    });
  });
});
