// Identifiers a UA must make globally unique (RFC 3261 §8.1.1.4, §8.1.1.7,
// §19.3): branch ids carry the RFC 3261 magic cookie so peers use branch-based
// transaction matching; all of them come from the CSPRNG because a guessable
// tag or branch lets a third party inject responses into our transactions.
import { randomFillSync } from 'node:crypto';

// CSPRNG bytes drawn 4 KiB at a time: one randomBytes() call per id cost ~40 µs at
// thousands of NOTIFYs a second (a sixth of the sink's own work, profiled); the bytes
// are as unguessable, only fetched in bulk.
const POOL = Buffer.alloc(4096);
let used = POOL.length;

function randomBytes(n: number): Buffer {
  if (used + n > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  // A copy: the pool is refilled in place.
  const out = Buffer.from(POOL.subarray(used, used + n));
  used += n;
  return out;
}

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
