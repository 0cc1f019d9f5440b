// Location is the most sensitive element (issue 19): a position the network
// reported reaches, as RFC 4119 geopriv, only the watchers whose rule is
// 'allow-location'; a watcher with an ordinary 'allow' gets the same presence
// without it, and is not even told when only the position changed.
import { describe, expect, it } from 'vitest';
import { parsePidf } from '../../../presence-document/parse.ts';
import type { LocationRequest, NotifyRequest, SignalingEvent, Subscription } from '../../../schemas/generated/records.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';
import { locationEvent } from '../../../taps/network-query/locationEvent.ts';
import { handlerContext, runHandlers, written } from '../../../test/support/handlerRun.ts';

const KEY = 'msisdn:+351910000001';
const T = Date.UTC(2026, 0, 1, 8);
const RULES: Record<string, string> = { 'sip:family@example.com': 'allow-location', 'sip:friend@example.com': 'allow' };

const sub = (callId: string, watcherUri: string) => subscriptionRecord(KEY, callId, { receivedAt: T, watcherUri });
const position = (lat: number, lon: number, radiusM: number | null, at: number) =>
  locationEvent(
    KEY,
    { msisdn: '351910000001', latitude: lat, longitude: lon, radiusM, time: at, method: 'A-GPS' },
    { agent: 'location-agent', answeredAt: at + 500 },
  );

async function run(records: Array<Subscription | SignalingEvent>) {
  const { m, out } = await runHandlers(
    handlerContext([...records], (w) => RULES[w] ?? 'block'),
    KEY,
    records,
  );
  const asked = written<LocationRequest>(out, 'location-requests').map((r) => ({ key: KEY, ...r }));
  return { m, all: written<NotifyRequest>(out, 'notify-requests'), current: written<{ pidf: string }>(out, 'current-presence'), asked };
}

describe('location watchers', () => {
  it('the watcher allowed location gets the geopriv position, the one allowed presence gets none', async () => {
    const { all, current, m } = await run([
      sub('fam', 'sip:family@example.com'),
      sub('fr', 'sip:friend@example.com'),
      mapEvent(KEY, 'updateLocation', 'invoke', T + 1000, { vlrNumber: '351910999001', opc: 1, dpc: 2 }, { eventId: 'ul' }),
      mapEvent(KEY, 'updateLocation', 'result', T + 1100, { opc: 2, dpc: 1 }, { eventId: 'ul-ok' }),
      position(38.736946, -9.142685, 120, T + 2000),
      position(38.7401, -9.1501, null, T + 60_000),
    ]);
    const family = all.filter((n) => n.callId === 'fam');
    const friend = all.filter((n) => n.callId === 'fr');
    // Subscribe, attaching, attached, then each new position: only the family watcher hears about positions.
    expect(family.map((n) => n.version)).toEqual([1, 2, 3, 4, 5]);
    expect(friend.map((n) => n.causeEventId)).toEqual([expect.any(String), 'ul', 'ul-ok']);
    for (const n of friend) expect(n.body).not.toMatch(/geopriv|gml:|gs:Circle/);
    for (const c of current) expect(c.pidf).not.toMatch(/geopriv/); // the current-presence topic carries no position

    const circle = family[3]!.body!;
    expect(circle).toContain('<gp:geopriv');
    expect(circle).toContain(
      '<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>38.736946 -9.142685</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">120</gs:radius></gs:Circle>',
    );
    expect(circle).toContain('<gp:method>A-GPS</gp:method>');
    expect(circle).toContain('<gbp:retransmission-allowed>no</gbp:retransmission-allowed>');
    const point = family[4]!.body!;
    expect(point).toContain('<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>38.740100 -9.150100</gml:pos></gml:Point>');
    // The position's tuple is timestamped with when the subscriber was there, and parses as PIDF.
    const doc = parsePidf(point);
    expect(doc.services.find((t) => t.id === 'location')?.timestamp).toBe(new Date(T + 60_000).toISOString());
    // Apart from the position, both watchers see the same presence.
    expect(point.replace(/\n {2}<tuple id="location">[\s\S]*?<\/tuple>/, '')).toBe(friend[2]!.body);
    expect(m.notifiedGeolocation).not.toBeNull();
  });

  it('a late answer with an older position changes nothing; a new location watcher gets the current one at once', async () => {
    const { all, m } = await run([
      position(38.7401, -9.1501, null, T + 60_000),
      position(10, 10, null, T + 1000), // older observation arriving later
      sub('fam', 'sip:family@example.com'),
      sub('fr', 'sip:friend@example.com'),
    ]);
    expect(m.presence.geolocation?.latitude).toBe(38.7401);
    expect(all.find((n) => n.callId === 'fam')!.body).toContain('<gml:pos>38.740100 -9.150100</gml:pos>');
    expect(all.find((n) => n.callId === 'fr')!.body).not.toContain('geopriv');
  });

  it('asks the location agent when a watcher allowed location subscribes and no fresh position is known, and only then', async () => {
    const { asked } = await run([
      sub('fr', 'sip:friend@example.com'), // allow: never asks
      sub('fam', 'sip:family@example.com'), // no position: asks
      position(38.7401, -9.1501, null, T + 60_000),
      subscriptionRecord(KEY, 'fam2', { receivedAt: T + 120_000, watcherUri: 'sip:family@example.com' }), // fresh: does not ask
      subscriptionRecord(KEY, 'fam3', { receivedAt: T + 60_000 + 901_000, watcherUri: 'sip:family@example.com' }), // older than 900 s: asks
      subscriptionRecord(KEY, 'fam4', { receivedAt: T + 60_000 + 902_000, watcherUri: 'sip:family@example.com', expires: 0 }), // a fetch/unsubscribe: does not
    ]);
    expect(asked).toEqual([
      { key: KEY, requestId: 'location:sub-fam-1', subscriber: KEY, requestedAt: T, reason: 'watcher', maxLocationAgeS: 900, horizontalAccuracyM: null },
      {
        key: KEY,
        requestId: 'location:sub-fam3-1',
        subscriber: KEY,
        requestedAt: T + 961_000,
        reason: 'stale',
        maxLocationAgeS: 900,
        horizontalAccuracyM: null,
      },
    ]);
  });
});
