import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_SPEED, ReplayRequestError, listCaptures, parseReplayRequest } from './consoleReplay.ts';

describe('captures offered for replay', () => {
  it('lists capture files directly in each directory under its label, not sub-directories or other files; a missing directory offers none', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'console-captures-'));
    writeFileSync(path.join(dir, 'b.pcapng'), 'x');
    writeFileSync(path.join(dir, 'a.pcap'), 'xyz');
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    mkdirSync(path.join(dir, 'deeper.pcap'));
    expect(
      listCaptures([
        { label: 'captures', dir },
        { label: 'gone', dir: path.join(dir, 'nope') },
      ]),
    ).toEqual([
      { name: 'captures/a.pcap', file: path.join(dir, 'a.pcap'), bytes: 3 },
      { name: 'captures/b.pcapng', file: path.join(dir, 'b.pcapng'), bytes: 1 },
    ]);
  });
});

describe('parseReplayRequest', () => {
  const captures = [{ name: 'fixtures/map-m3ua.pcap', file: '/x/map-m3ua.pcap', bytes: 1 }];
  it('takes a listed capture by name, a speed (number or "max") and an unknown-subscriber policy', () => {
    expect(parseReplayRequest({ capture: 'fixtures/map-m3ua.pcap', speed: 10 }, captures)).toEqual({ capture: captures[0], speed: 10, unknown: undefined });
    expect(parseReplayRequest({ capture: 'fixtures/map-m3ua.pcap', speed: 'max', unknown: 'keep' }, captures).speed).toBe(Infinity);
    expect(parseReplayRequest({ capture: 'fixtures/map-m3ua.pcap' }, captures).speed).toBe(1);
  });

  it.each([
    [null, /JSON object/],
    [[], /JSON object/],
    [{ capture: '../../etc/passwd' }, /capture must be one of fixtures\/map-m3ua\.pcap/],
    [{ capture: '/x/map-m3ua.pcap' }, /capture must be one of/],
    [{ capture: 'fixtures/map-m3ua.pcap', speed: 0 }, /speed/],
    [{ capture: 'fixtures/map-m3ua.pcap', speed: -2 }, /speed/],
    [{ capture: 'fixtures/map-m3ua.pcap', speed: 'fast' }, /speed/],
    [{ capture: 'fixtures/map-m3ua.pcap', speed: MAX_SPEED + 1 }, /speed/],
    [{ capture: 'fixtures/map-m3ua.pcap', unknown: 'maybe' }, /unknown must be drop or keep/],
  ])('refuses %j', (body, msg) => {
    expect(() => parseReplayRequest(body, captures)).toThrow(ReplayRequestError);
    expect(() => parseReplayRequest(body, captures)).toThrow(msg);
  });
});
