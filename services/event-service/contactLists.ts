// The members of subscribers' contact lists, for registrations that subscribe by a
// contact list (seed 004: per subscriber, per contact list, per type): read from the
// owners' active availability profiles (subscriber/availability, the availability
// service's tables; cached 5 s by the store) when a batch of events is logged, and
// turned into subscriber keys as events name them (tel:/sip: URIs and numbers through
// the numbering plan). An entry that names nobody (not a number, URI or key) is skipped.
import type { Settings } from '../../config/settings.ts';
import { keyOf, UnknownIdentityError } from '../../coordinator/locator.ts';
import { activeProfile } from '../../subscriber/availability/availabilityProfile.ts';
import type { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import type { ContactListMembers, Registration } from './serviceRegistration.ts';

export class ContactListResolver {
  /** List entry → subscriber key (null: names nobody); entries repeat across owners and batches. */
  private readonly keys = new Map<string, string | null>();

  constructor(
    private readonly settings: Settings,
    private readonly profiles: Pick<AvailabilityStore, 'getMany'>,
  ) {}

  /** The lists the registrations subscribe by, as they are now. */
  async members(regs: readonly Registration[]): Promise<ContactListMembers> {
    const owners = [...new Set(regs.flatMap((r) => r.subscriptions.flatMap((s) => (s.contactList ? [s.contactList.owner] : []))))];
    if (owners.length === 0) return () => undefined;
    const byOwner = await this.profiles.getMany(owners);
    const resolved = new Map<string, Set<string>>();
    for (const owner of owners) {
      const p = byOwner.get(owner);
      if (!p) continue;
      const lists = activeProfile(p).lists;
      for (const list of ['watched', 'allowed', 'denied', 'consent'] as const) {
        const set = new Set<string>();
        for (const entry of lists[list]) {
          const key = await this.keyOf(entry);
          if (key) set.add(key);
        }
        resolved.set(`${owner}\u0000${list}`, set);
      }
    }
    return (owner, list) => resolved.get(`${owner}\u0000${list}`);
  }

  private async keyOf(entry: string): Promise<string | null> {
    const known = this.keys.get(entry);
    if (known !== undefined) return known;
    let key: string | null;
    try {
      key = await keyOf(this.settings, entry);
    } catch (err) {
      if (!(err instanceof UnknownIdentityError)) throw err;
      key = null;
    }
    if (this.keys.size > 100_000) this.keys.clear();
    this.keys.set(entry, key);
    return key;
  }
}
