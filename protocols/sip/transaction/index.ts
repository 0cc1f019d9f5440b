// SIP non-INVITE transactions (RFC 3261 §17) and the layer that routes to them.
export { systemClock, type Clock, type TimerHandle } from './clock.ts';
export { RFC3261_TIMERS, NON_INVITE_TIMERS, nextTimerE, type NonInviteTimer, type TimerValues } from './timers.ts';
export { clientKey, clientKeyOfResponse, serverKey } from './keys.ts';
export {
  NonInviteClientTransaction,
  type ClientTransactionOptions,
  type ClientTransactionOutcome,
  type ClientTransactionState,
  type SendBytes,
} from './clientTransaction.ts';
export {
  NonInviteServerTransaction,
  type SendResponseBytes,
  type ServerTransactionOptions,
  type ServerTransactionState,
} from './serverTransaction.ts';
export {
  TransactionLayer,
  type SendRequestOptions,
  type TransactionLayerOptions,
  type TransactionLayerStats,
  type TransactionUser,
  type TransportPort,
} from './layer.ts';
