// The event log's retention (issue 17 part 4): rows logged longer ago than the retention
// are deleted with their recipients' rows, delivered or not (a log, not a queue: a
// service away longer than the retention misses those events, services/event-service/README.md, Retention);
// newer rows stay.
import { afterAll, describe, expect, it } from 'vitest';
import { serviceEvent, serviceEventJson } from '../../schemas/serviceEventCatalogue.ts';
import { EventStore } from '../../services/event-service/eventStore.ts';
import { parseRegistration } from '../../services/event-service/serviceRegistration.ts';
import { dropSchema, onTestDatabase, testDatabaseUrl } from '../support/database.ts';

const schema = `it_evlog_retention_${process.pid}`;
const store = new EventStore(testDatabaseUrl, schema);
afterAll(async () => {
  await store.close();
  await dropSchema(schema);
});

const gauge = (id: string) =>
  serviceEventJson(
    serviceEvent(
      { eventId: id, type: 'usage.gauge', subject: 'msisdn:+9997000000195', time: Date.now(), source: 'service:billing' },
      { gauge: 'data-mb', used: 1, limit: null, unit: 'MB' },
    ),
  );

describe('event log retention', () => {
  it('deletes the rows logged before the retention with their recipients, and keeps the newer ones', async () => {
    await store.migrate();
    await store.register(parseRegistration('voicemail', { subscriptions: [{ types: ['usage.gauge'] }], delivery: { mode: 'pull' } }));
    expect(await store.logEvents([gauge('old-1'), gauge('old-2'), gauge('new-1')])).toEqual({ logged: 3, recipients: 3 });
    await onTestDatabase(`update ${schema}.event_log set logged_at = now() - interval '2 hours' where event_id like 'old-%'`);

    expect(await store.deleteOlderThan(3600_000)).toBe(2);
    const log = await store.eventLog({ service: 'voicemail', limit: 100 });
    expect(log.map((e) => e.eventId)).toEqual(['new-1']);
    expect(log[0]!.recipients.map((r) => r.service)).toEqual(['voicemail']);
    // Their recipient rows went with them: nothing left to hand out but the new one.
    expect((await store.eventsAfter('voicemail', 0, 100)).map((e) => e.eventId)).toEqual(['new-1']);
    expect(await store.deleteOlderThan(3600_000)).toBe(0);
  });
});
