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
  /** Subscriber capabilities. */
  gprsShare: number;
  imsShare: number;
  /** Probability of being in the home MSC area in a mobility epoch. */
  homeShare: number;
  mscCount: number;
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
  powerCycleSeconds: 6 * 3600,
  periodicLuSeconds: 3600,
  mobilitySeconds: 1800,
  registerSeconds: 600,
  meanCallSeconds: 90,
  busyShare: 0.1,
  noAnswerShare: 0.15,
  unknownShare: 0.02,
  gprsShare: 0.7,
  imsShare: 0.6,
  homeShare: 0.6,
  mscCount: 4,
};

/** Off-time of each power class as a share of the power cycle. */
export const OFF_SHARES = [0.05, 0.1, 0.2, 0.4] as const;

export function resolveMix(mix: Partial<Mix> = {}): Mix {
  const m = { ...DEFAULT_MIX, ...mix };
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`mix.${k} must be a non-negative number`);
  }
  if (m.mscCount < 1 || m.mscCount > 32) throw new Error('mix.mscCount must be 1..32');
  return m;
}
