// Redirect mode (Tekelec claims 7-9, Fig 12 lines 3-5): an acceptable
// out-of-dialog SUBSCRIBE is answered 302 Moved Temporarily (RFC 3261 §21.3.3)
// with the owning event manager's own SIP contact; the watcher re-sends the
// SUBSCRIBE there (§8.1.3.4) and may remember it. Nothing is recorded here:
// the event manager's embedded front end records it when it arrives. A
// SUBSCRIBE that came over TLS (or for a sips: URI) is redirected only to a
// TLS contact: the owner's SIPS contact (`run event-manager --sip-tls-port`),
// or a plain contact that is sips: or transport=tls; to a plain one it would
// lose its protection at the next hop, so without a TLS contact it is handled
// here, statelessly, instead (RFC 5630 §3).
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import {
  arrivedSecure,
  emptyRoutingStats,
  outOfDialogPresentity,
  ownerTargetUri,
  secureContact,
  type OwnerContacts,
  type SubscribeRouting,
} from './routingMode.ts';
import type { Answer } from './handlerContext.ts';

export function redirectRouting(owners: OwnerContacts & { close?(): Promise<void> }): SubscribeRouting {
  const stats = emptyRoutingStats();
  return {
    mode: 'redirect',
    stats,
    redirect(request: SipMessage, accepted: Answer): Answer | undefined {
      const presentityUri = outOfDialogPresentity(request);
      // Group subscriptions are keyed by group, not by a subscriber partition: they stay stateless.
      if (!presentityUri || !accepted.record || accepted.record.value.presentity.startsWith('group:')) return undefined;
      const key = accepted.record.key;
      const plain = owners.contactOf(key);
      const sips = owners.secureContactOf?.(key) ?? null;
      if (!plain && !sips) {
        stats.ownerUnknown++;
        return undefined;
      }
      let contact = plain;
      if (arrivedSecure(request)) {
        contact = sips ?? (plain && secureContact(plain) ? plain : null);
        if (!contact) {
          stats.tlsKept++;
          return undefined;
        }
      } else if (!contact) {
        // Only a TLS contact: a plain watcher is not pushed onto TLS it may not speak.
        stats.ownerUnknown++;
        return undefined;
      }
      stats.redirected++;
      return { status: 302, toTag: accepted.toTag, headers: [['Contact', `<${ownerTargetUri(contact, presentityUri)}>`]] };
    },
    close: async () => owners.close?.(),
  };
}
