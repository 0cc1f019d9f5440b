// Identifiers a UA must make globally unique (RFC 3261 §8.1.1.4, §8.1.1.7,
// §19.3): branch ids carry the RFC 3261 magic cookie so peers use branch-based
// transaction matching; all of them come from the CSPRNG because a guessable
// tag or branch lets a third party inject responses into our transactions.
import { randomBytes } from 'node:crypto';

/** RFC 3261 §8.1.1.7: every compliant branch id starts with this. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** A fresh Via branch: magic cookie + 96 random bits (token characters only). */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomBytes(12).toString('base64url');
}

/** A From/To tag (§19.3: at least 32 bits of randomness). */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/** A Call-ID; `host` (our address) is optional and only aids debugging (§8.1.1.4). */
export function newCallId(host?: string): string {
  const id = randomBytes(16).toString('hex');
  return host ? `${id}@${host}` : id;
}
