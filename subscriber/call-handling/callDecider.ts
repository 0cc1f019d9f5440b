// Who decides a call (issue 16.5) as the redirect server sees it: the callee's
// owner over its member API (services/call-handling/ownerDecisions.ts), or the
// owning member itself from its store (streams/event-manager/introspection/
// memberDecisions.ts) — and every way no decision can be had.
import type { CallDecision, CallRequest } from './callDecision.ts';

export type OwnerAnswer =
  | { readonly kind: 'decision'; readonly decision: CallDecision; readonly memberId: string }
  /** The owner holds no state for the key: presence knows nothing of it. */
  | { readonly kind: 'no-state' }
  /** No decision could be had: no live owner with an API, a timeout, a refusal, a moved partition. */
  | { readonly kind: 'unavailable'; readonly reason: OwnerFailure; readonly detail: string };

export const OWNER_FAILURES = ['no-owner', 'timeout', 'moved', 'refused', 'error'] as const;
export type OwnerFailure = (typeof OWNER_FAILURES)[number];

/** Who decides a callee's calls: OwnerDecisions (the owner's member API) or MemberDecisions (the owning member, in-process). */
export interface CallDecider {
  decide(key: string, request: Omit<CallRequest, 'at'>): Promise<OwnerAnswer>;
}
