import { describe, expect, it } from 'vitest';
import { parsePidf } from '../../../presence-document/parse.ts';
import { pidfFor } from '../../../test/support/groupRecords.ts';
import { filterPidf, intersectParts, parseParts } from './presenceParts.ts';

describe('presence parts', () => {
  const pidf = pidfFor('alice', 'open');

  it('leaves the PIDF byte-identical when all parts are shared', () => {
    expect(filterPidf(pidf, null)).toBe(pidf);
    expect(filterPidf(pidf, ['basic', 'network', 'call', 'location', 'activities', 'note'])).toBe(pidf);
  });

  it('keeps only the basic status when only basic is shared', () => {
    const doc = parsePidf(filterPidf(pidf, ['basic']));
    expect(doc.services[0]!.basic).toBe('open');
    expect(doc.services[0]!.notes).toEqual([]);
    expect(doc.services[0]!.deviceIds).toEqual([]);
    expect(doc.persons[0]!.activities).toEqual([]);
    expect(doc.persons[0]!.notes).toEqual([]);
    expect(doc.devices).toEqual([]);
  });

  it('separates call activities from other activities', () => {
    expect(parsePidf(filterPidf(pidf, ['call'])).persons[0]!.activities).toEqual(['on-the-phone']);
    expect(parsePidf(filterPidf(pidf, ['activities'])).persons[0]!.activities).toEqual([]);
    const away = pidfFor('bob', 'open', 'away');
    expect(parsePidf(filterPidf(away, ['activities'])).persons[0]!.activities).toEqual(['away']);
    expect(parsePidf(filterPidf(away, ['basic'])).services[0]!.basic).toBe('open');
  });

  it('drops the status when basic is not shared', () => {
    expect(parsePidf(filterPidf(pidf, ['note'])).services[0]!.basic).toBeUndefined();
    expect(parsePidf(filterPidf(pidf, ['note'])).persons[0]!.notes[0]!.text).toBe('at work');
  });

  it('rejects unknown part names, naming the known ones', () => {
    expect(() => parseParts(['basic', 'mood'], 'receive-parts')).toThrow(/unknown presence part "mood".*basic, network/);
    expect(parseParts([' Basic ', 'note', 'basic'], 'x')).toEqual(['basic', 'note']);
  });

  it('intersects part lists (null = all)', () => {
    expect(intersectParts(null, null)).toBeNull();
    expect(intersectParts(null, ['note'])).toEqual(['note']);
    expect(intersectParts(['basic', 'note'], ['note', 'call'])).toEqual(['note']);
  });
});
