// RFC 3261 §17 timer values (Table 4) as data, and the non-INVITE timers
// derived from them. Reliable transports (TCP) get no retransmissions and
// zero-length "absorb" timers: a stream never duplicates a message.

export interface TimerValues {
  /** RTT estimate. */
  readonly T1: number;
  /** Maximum retransmit interval for non-INVITE requests. */
  readonly T2: number;
  /** Maximum time a message remains in the network. */
  readonly T4: number;
}

export const RFC3261_TIMERS: TimerValues = { T1: 500, T2: 4000, T4: 5000 };

interface NonInviteTimer {
  readonly name: 'E' | 'F' | 'J' | 'K';
  readonly section: string;
  readonly meaning: string;
  /** Duration in ms; for E, the first interval. */
  readonly duration: (t: TimerValues, reliable: boolean) => number;
}

export const NON_INVITE_TIMERS: Readonly<Record<NonInviteTimer['name'], NonInviteTimer>> = {
  E: { name: 'E', section: '17.1.2.2', meaning: 'request retransmit interval, UDP only', duration: (t) => t.T1 },
  F: { name: 'F', section: '17.1.2.2', meaning: 'client transaction timeout', duration: (t) => 64 * t.T1 },
  J: { name: 'J', section: '17.2.2', meaning: 'wait time for request retransmits', duration: (t, reliable) => (reliable ? 0 : 64 * t.T1) },
  K: { name: 'K', section: '17.1.2.2', meaning: 'wait time for response retransmits', duration: (t, reliable) => (reliable ? 0 : t.T4) },
};

/** Timer E after `interval` fired: doubles up to T2 in Trying, T2 once Proceeding (§17.1.2.2). */
export function nextTimerE(interval: number, proceeding: boolean, t: TimerValues): number {
  return proceeding ? t.T2 : Math.min(2 * interval, t.T2);
}
