// How watchers' dialogs move when their presentity's partition moves to another
// event manager (Tekelec Fig 13, rebalancing).
//
// transparent (default): the dialog moves with the subscriber's state through
//   the changelog; the new owner's next NOTIFY continues its CSeq and version,
//   so watchers notice nothing.
// resubscribe: the old owner ends each dialog with NOTIFY
//   `Subscription-State: terminated;reason=deactivated` (RFC 6665 §4.1.3: the
//   watcher re-subscribes at once) and forgets it; the re-SUBSCRIBE reaches the
//   new owner — the document's procedure, for watchers or proxies that expect it.
const HANDOFF_MODES = ['transparent', 'resubscribe'] as const;
export type HandoffMode = (typeof HANDOFF_MODES)[number];

export function parseHandoffMode(value: string, where: string): HandoffMode {
  if ((HANDOFF_MODES as readonly string[]).includes(value)) return value as HandoffMode;
  throw new Error(`${where} must be one of ${HANDOFF_MODES.join(', ')}, not "${value}"`);
}
