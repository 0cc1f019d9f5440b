import { describe, expect, it } from 'vitest';
import { pidfFingerprint, toldPidf } from './pidfFingerprint.ts';

const doc = (note: string) => `<?xml version="1.0"?><presence entity="tel:+1"><tuple id="n"><note>${note}</note></tuple></presence>`;

describe('what watchers were told of the PIDF', () => {
  it('a digest of 12 characters tells the document told from a changed one', () => {
    expect(pidfFingerprint(doc('a'))).toHaveLength(12);
    expect(toldPidf(pidfFingerprint(doc('a')), doc('a'))).toBe(true);
    expect(toldPidf(pidfFingerprint(doc('a')), doc('b'))).toBe(false);
    expect(toldPidf(null, doc('a'))).toBe(false);
  });

  it('a state written before digests holds the document itself: compared as it is', () => {
    expect(toldPidf(doc('a'), doc('a'))).toBe(true);
    expect(toldPidf(doc('a'), doc('b'))).toBe(false);
  });
});
