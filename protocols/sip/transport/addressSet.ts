// A set of addresses and networks (trusted proxies, sources exempt from rate
// limits): "10.0.0.5", "10.0.0.0/8", "2001:db8::/32", "::1". Operators list
// their proxy tier as a subnet, not host by host. IPv4 peers seen on a
// dual-stack socket (::ffff:a.b.c.d) match their IPv4 entries.
import { BlockList, isIP } from 'node:net';

export class AddressSet {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws naming `setting` and the entry when an entry is neither an address nor a network. */
  constructor(entries: readonly string[], setting = 'address list') {
    for (const raw of entries) {
      const entry = raw.trim();
      const slash = entry.indexOf('/');
      const address = slash < 0 ? entry : entry.slice(0, slash);
      const family = isIP(address);
      if (family === 0) throw new Error(`${setting}: ${JSON.stringify(raw)} is not an IP address or network (a.b.c.d, a.b.c.d/n, IPv6, IPv6/n)`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (slash < 0) {
        this.list.addAddress(address, type);
        continue;
      }
      const prefix = Number(entry.slice(slash + 1));
      if (!/^\d+$/.test(entry.slice(slash + 1)) || prefix > (family === 4 ? 32 : 128))
        throw new Error(`${setting}: ${JSON.stringify(raw)} has no valid prefix length (0-${family === 4 ? 32 : 128})`);
      this.list.addSubnet(address, prefix, type);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1]! : address;
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}
