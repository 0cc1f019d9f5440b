import { describe, expect, it } from 'vitest';
import { avroType, loadSchemas, type AvroSchemaJson } from '../../schemas/avroSchemas.ts';
import type { PresenceState } from '../../schemas/generated/records.ts';
import { PartitionStore, type StoreCodec } from '../../kafka/partitionStore.ts';
import { forUpdate, fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from './managedSubscriber.ts';
import { applyMessaging } from './subscriptions/messageWaiting.ts';
import { notifyChange } from './subscriptions/watcherDialog.ts';

describe('forUpdate', () => {
  it('gives a batch a copy: NOTIFYs on it leave the committed value as it was (an abort then discards them)', () => {
    const committed = newSubscriber('msisdn:+1');
    committed.watchers.set('c\u0000w', {
      contactVerified: true,
      dialogFilter: null,
      callId: 'c',
      remoteTag: 'w',
      localTag: 'n',
      watcherUri: 'sip:w@x',
      presentityUri: 'sip:+1@x',
      contact: 'sip:w@127.0.0.1',
      routeSet: [],
      state: 'active',
      decision: 'allow',
      expiresAt: 9e12,
      notifyCseq: 3,
      version: 3,
      subscribeCseq: 1,
      event: 'presence',
      wantsLocation: false,
    });
    const m = forUpdate(committed);
    m.notifiedPidf = '<presence/>';
    const [n] = notifyChange(
      m.watchers,
      'msisdn:+1',
      { contentType: 'application/pidf+xml', body: '<presence/>' },
      { contentType: 'application/pidf+xml', body: '' },
      0,
      'e1',
    );
    expect([n!.cseq, n!.version]).toEqual([4, 4]);
    expect(committed.notifiedPidf).toBeNull();
    expect(committed.watchers.get('c\u0000w')).toMatchObject({ notifyCseq: 3, version: 3 });
  });
});

describe('a subscriber in a compact store', () => {
  const type = avroType(loadSchemas().get('PresenceState')!);
  const withHeader = (body: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), body]);
  const codec: StoreCodec<ManagedSubscriber> = {
    encode: (m) => withHeader(type.toBuffer(toStateRecord(m))),
    decode: (b) => fromStateRecord(type.fromBuffer(b.subarray(5)) as PresenceState),
    isCurrent: (b) => b.readUInt32BE(1) === 7,
  };

  it('an old-shape record (64 event ids, the PIDF told as text) restores, and is kept without them', () => {
    const old = newSubscriber('msisdn:+1');
    old.notifiedPidf = '<presence entity="tel:+1"/>';
    const record = { ...toStateRecord(old), recentEventIds: Array.from({ length: 64 }, (_, i) => `replay:capture.pcap:${i}:0:subject`) };
    const oldBytes = withHeader(type.toBuffer(record));
    const st = new PartitionStore<ManagedSubscriber>(0, codec);
    st.restore('msisdn:+1', fromStateRecord(type.fromBuffer(oldBytes.subarray(5)) as PresenceState));
    const back = st.get('msisdn:+1')!;
    expect(back.presence.subscriber).toBe('msisdn:+1');
    expect(back.notifiedPidf).toBe('<presence entity="tel:+1"/>');
    const kept = [...st.encodedEntries(codec.encode)][0]?.[1];
    expect((type.fromBuffer(kept!.subarray(5)) as PresenceState).recentEventIds).toEqual([]);
    expect(kept!.length).toBeLessThan(oldBytes.length / 10);
  });
});

describe('the changelog record and message waiting', () => {
  const current = loadSchemas().get('PresenceState')!;
  const older = { ...current, fields: (current.fields as { name: string }[]).filter((f) => f.name !== 'messages') } as unknown as AvroSchemaJson;

  it('a record written before messages existed reads back with none', () => {
    const written = avroType(older).toBuffer({ ...toStateRecord(newSubscriber('msisdn:+1')), messages: undefined });
    const reader = avroType(current);
    const read = reader.fromBuffer(written, reader.createResolver(avroType(older)));
    expect(fromStateRecord(read).messages).toBeNull();
  });

  it('a summary and held messages survive the Avro round trip', () => {
    const m = newSubscriber('msisdn:+1');
    applyMessaging(
      m,
      'msisdn:+1',
      {
        summary: { waiting: true, account: null, classes: [{ context: 'fax-message', newCount: 1, oldCount: 0, urgentNew: 0, urgentOld: 0 }] },
        notice: { messageId: 'm1', contentType: 'text/plain', origin: 'tel:+2', contact: null, context: 'text-message', receivedAt: 5, subject: null },
      },
      5,
      'e1',
    );
    const type = avroType(current);
    const back = fromStateRecord(type.fromBuffer(type.toBuffer(toStateRecord(m))));
    expect(back.messages).toEqual(m.messages);
    expect(back.messages?.pending.map((n) => n.messageId)).toEqual(['m1']);
  });
});
