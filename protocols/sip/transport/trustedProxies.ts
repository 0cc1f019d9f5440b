// RFC 3325's trust domain as a SIP element sees it: proxies listed by address
// or network (PRESENCE_SIP_TRUSTED_PROXIES), or by the name their TLS client
// certificate certifies, verified against the listener's client CA
// (PRESENCE_SIP_TRUSTED_PROXY_NAMES; MessageSource.peerNames). Only their
// P-Asserted-Identity is believed, by the front end and the call-handling
// redirect server alike.
import { AddressSet } from './addressSet.ts';
import type { MessageSource } from './types.ts';

export class TrustedProxies {
  private readonly addresses: AddressSet;
  private readonly names: ReadonlySet<string>;

  constructor(addresses: readonly string[], names: readonly string[] = []) {
    this.addresses = new AddressSet(addresses, 'PRESENCE_SIP_TRUSTED_PROXIES');
    this.names = new Set(names.map((n) => n.toLowerCase()));
  }

  /** Whether a message from this source comes from a trusted proxy. */
  has(source: MessageSource): boolean {
    return this.addresses.has(source.address) || (source.peerNames?.some((n) => this.names.has(n)) ?? false);
  }
}
