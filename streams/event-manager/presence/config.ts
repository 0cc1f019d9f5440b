// Tunables of presence derivation, passed in so the functions stay pure and
// tests can shrink the clocks.
export interface DerivationConfig {
  /** Attached with no SS7 signaling for this long → unknown (longest periodic location update, T3212 = 25.5 h). */
  readonly staleNetworkMs: number;
  /** A call leg with no release after this long → dropped (lost REL/BYE). */
  readonly stuckCallMs: number;
  /** An updateLocation without a result after this long → back to the previous state. */
  readonly pendingAttachMs: number;
  /** A PUBLISH without a final response after this long is forgotten (SIP timer F, 32 s). */
  readonly pendingPublishMs: number;
  /** Expiry when a REGISTER 2xx names none (RFC 3261 §10.2.1.1 suggests 3600 s). */
  readonly defaultRegisterExpiresS: number;
  /** Expiry when a PUBLISH 2xx names none (RFC 3903 leaves it to the ESC; 3600 s is usual). */
  readonly defaultPublishExpiresS: number;
  /** Released call legs kept against late messages. */
  readonly releasedCallsKept: number;
}

export const DEFAULT_CONFIG: DerivationConfig = {
  staleNetworkMs: 26 * 3600_000,
  stuckCallMs: 4 * 3600_000,
  pendingAttachMs: 60_000,
  pendingPublishMs: 32_000,
  defaultRegisterExpiresS: 3600,
  defaultPublishExpiresS: 3600,
  releasedCallsKept: 8,
};
