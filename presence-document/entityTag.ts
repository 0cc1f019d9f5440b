// The entity tag a PUBLISH creates (RFC 3903 SIP-ETag): a function of its
// request id only. The front end that answers an initial PUBLISH and the event
// manager that applies it compute the same tag without talking to each other,
// and a batch re-processed after an aborted transaction hands out the tag of
// its first attempt.
import { createHash } from 'node:crypto';

export function entityTagOf(requestId: string): string {
  return createHash('sha256').update(`sip-etag:${requestId}`).digest('base64url').slice(0, 20);
}
