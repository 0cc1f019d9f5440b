// How much of what happens: the configurable traffic mix. Rates are mean
// events per subscriber per hour; periods are per-subscriber timers; shares
// are probabilities. Defaults aim at a plausible busy-hour profile.

export interface Mix {
  mtCallsPerHour: number;
  moCallsPerHour: number;
  mtSmsPerHour: number;
  moSmsPerHour: number;
  atiPerHour: number;
  sipCallsPerHour: number;
  publishPerHour: number;
  subscribePerHour: number;
  messagePerHour: number;
  /** Voicemail deposits: the voicemail server's message-summary NOTIFY (RFC 3842) to the handset. 0 by default (added after the fixtures). */
  voicemailPerHour: number;
  /** A handset's on/off cycle; it is off for 5–40 % of it (four classes). */
  powerCycleSeconds: number;
  /** Periodic location update timer (T3212-like). */
  periodicLuSeconds: number;
  /** How often a handset may change MSC/VLR area. */
  mobilitySeconds: number;
  /** SIP registration expiry; refreshes come every 90 % of it. */
  registerSeconds: number;
  meanCallSeconds: number;
  /** Call outcomes (remainder answered). */
  busyShare: number;
  noAnswerShare: number;
  /** Share of MT calls/SMS/ATI addressed to numbers that do not exist. */
  unknownShare: number;
  /**
   * Share of location updates whose insertSubscriberData travels inside the
   * updateLocation dialogue (TC-CONTINUE both ways, then a bare TC-END), as
   * most HLRs do. The rest use a separate BEGIN/END dialogue per operation.
   */
  ulContinueShare: number;
  /**
   * Share of the MAP operations in their own BEGIN/END dialogue whose answer
   * comes back through the other STP, as a probe on the STP links sees it:
   * the invoke on the requester's link to STP 1 (OPC requester, DPC STP 1),
   * the answer on the responder's link to STP 2 (OPC responder, DPC STP 2).
   * The SCCP addresses stay end to end (global titles); the rest go direct.
   */
  stpAnswerShare: number;
  /** Subscriber capabilities. */
  gprsShare: number;
  imsShare: number;
  /** Probability of being in the home MSC area in a mobility epoch. */
  homeShare: number;
  /** MSC/VLRs; 0 = one per 250,000 subscribers (4 to 80). */
  mscCount: number;
  /** Gateway MSCs; 0 = enough ISUP trunks to keep circuits about half busy (1 to 32). */
  gmscCount: number;
}

export const DEFAULT_MIX: Mix = {
  mtCallsPerHour: 0.6,
  moCallsPerHour: 0.6,
  mtSmsPerHour: 1,
  moSmsPerHour: 0.5,
  atiPerHour: 0.5,
  sipCallsPerHour: 0.3,
  publishPerHour: 0.5,
  subscribePerHour: 0.2,
  messagePerHour: 0.3,
  voicemailPerHour: 0,
  powerCycleSeconds: 6 * 3600,
  periodicLuSeconds: 3600,
  mobilitySeconds: 1800,
  registerSeconds: 600,
  meanCallSeconds: 90,
  busyShare: 0.1,
  noAnswerShare: 0.15,
  unknownShare: 0.02,
  ulContinueShare: 0,
  stpAnswerShare: 0,
  gprsShare: 0.7,
  imsShare: 0.6,
  homeShare: 0.6,
  mscCount: 0,
  gmscCount: 0,
};

/** Off-time of each power class as a share of the power cycle. */
export const OFF_SHARES = [0.05, 0.1, 0.2, 0.4] as const;

/** Circuits per MSC–gateway trunk group (CIC is 12 bits). */
const CIRCUITS = 4095;

/** Fills in defaults and the automatic node counts for `subscribers`. */
export function resolveMix(mix: Partial<Mix> = {}, subscribers = 1): Mix {
  const m = { ...DEFAULT_MIX, ...mix };
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`mix.${k} must be a non-negative number`);
  }
  if (!m.mscCount) m.mscCount = Math.min(80, Math.max(4, Math.ceil(subscribers / 250_000)));
  if (!m.gmscCount) {
    // Erlangs per MSC: call attempts × holding time (ringing ≈ 15 s plus talk).
    const erlangs = ((subscribers / m.mscCount) * (m.mtCallsPerHour + m.moCallsPerHour) * (m.meanCallSeconds + 15)) / 3600;
    m.gmscCount = Math.min(32, Math.max(1, Math.ceil(erlangs / (CIRCUITS / 2))));
  }
  if (!Number.isInteger(m.mscCount) || m.mscCount > 80) throw new Error('mix.mscCount must be an integer 1..80');
  if (!Number.isInteger(m.gmscCount) || m.gmscCount > 32) throw new Error('mix.gmscCount must be an integer 1..32');
  return m;
}
