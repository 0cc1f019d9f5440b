// What the store keeps of the PIDF presence watchers were last told: a digest,
// not the document (~700 B of XML per subscriber, most of an idle subscriber's
// state). Enough to decide whether a new document differs from the one told; a
// new watcher is sent the document rendered from the state, the same text.
import { hash } from 'node:crypto';

/** 72 bits of SHA-1, base64url: distinct documents collide with negligible odds. */
export function pidfFingerprint(pidf: string): string {
  return hash('sha1', pidf, 'base64url').slice(0, 12);
}

/**
 * Whether `pidf` is what watchers were told (`told`: the stored notifiedPidf). A
 * state written before fingerprints holds the document itself (it starts with '<').
 */
export function toldPidf(told: string | null, pidf: string): boolean {
  if (told === null) return false;
  return told.startsWith('<') ? told === pidf : told === pidfFingerprint(pidf);
}
