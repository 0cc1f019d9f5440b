// Call messages as data: the phase each ISUP message or SIP INVITE-dialog
// message puts a call leg in. Phases only move forward (rank).
import type { CallPhase } from './model.ts';

export const PHASE_RANK: Readonly<Record<CallPhase, number>> = { setup: 0, alerting: 1, answered: 2, released: 3 };

/** Q.763 messages (acronyms as decoded); CPG is taken as alerting (its event indicator is not carried). RSC resets the circuit. */
export const ISUP_PHASES: Readonly<Record<string, CallPhase>> = {
  IAM: 'setup',
  ACM: 'alerting',
  CPG: 'alerting',
  CON: 'answered',
  ANM: 'answered',
  REL: 'released',
  RLC: 'released',
  RSC: 'released',
};

/** SIP requests of an INVITE dialog. */
export const SIP_REQUEST_PHASES: Readonly<Record<string, CallPhase>> = {
  INVITE: 'setup',
  BYE: 'released',
  CANCEL: 'released',
};

/** Responses to INVITE by status class; 100 Trying says nothing. BYE/CANCEL responses confirm the release. */
export function sipResponsePhase(method: string, status: number): CallPhase | null {
  if (method === 'BYE' || method === 'CANCEL') return 'released';
  if (method !== 'INVITE' || status <= 100) return null;
  if (status < 200) return 'alerting';
  if (status < 300) return 'answered';
  return 'released';
}
