// SIP non-INVITE transactions (RFC 3261 §17) and the layer that routes to them.
export type { ClientTransactionOutcome } from './clientTransaction.ts';
export { TransactionLayer } from './layer.ts';
