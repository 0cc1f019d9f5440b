// A watcher's connectability (seed 004's five states, computed for that watcher)
// in the PIDF it is sent, as an extension element in our own namespace: PIDF
// (RFC 3863 §4.1.1) allows elements of other namespaces after the tuples and
// notes, and a watcher that does not know ours ignores it. Only the state: the
// mode's name and transfer target are the user's own business.
import type { Connectability } from './connectability.ts';

export const CONNECTABILITY_NS = 'urn:presence-gateway:xml:ns:connectability';

/** The PIDF with `<cn:connectability>` added as the last child of `<presence>`. */
export function withConnectability(pidf: string, state: Connectability): string {
  const end = pidf.lastIndexOf('</presence>');
  if (end < 0) throw new Error('not a PIDF document: no </presence>');
  return `${pidf.slice(0, end)}  <cn:connectability xmlns:cn="${CONNECTABILITY_NS}">${state}</cn:connectability>\n${pidf.slice(end)}`;
}
