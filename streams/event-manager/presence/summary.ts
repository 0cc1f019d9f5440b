// The current-presence record (schemas/avro/Presence.avsc): one flat row per
// subscriber with the rendered PIDF, for the compacted topic and the database.
import type { Presence } from '../../../schemas/generated/records.ts';
import { connectabilityFor } from './connectability.ts';
import type { UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import { DEFAULT_PROFILES } from '../../../subscriber/availability/settingsProfile.ts';
import { callStateOf, servingNodeOf, type SubscriberPresence } from './model.ts';
import { renderPidf } from '../../../presence-document/render.ts';
import { callDialogs } from './dialogDocument.ts';
import { NETWORK_TUPLE, presenceDocument, type DocumentOptions } from './presenceDocument.ts';

interface SummaryOptions extends DocumentOptions {
  readonly availability?: UserProfiles;
  /** When the profiles' rules are evaluated (the presence clock). */
  readonly at?: number;
}

export function summary(s: SubscriberPresence, o: SummaryOptions = {}): Presence {
  const doc = presenceDocument(s, o);
  const person = doc.persons[0];
  // Note: the person's (published) note, else a published tuple's, else the network's.
  const network = doc.services.find((t) => t.id === NETWORK_TUPLE);
  const publishedNote = doc.services.find((t) => t !== network && t.notes.length > 0)?.notes[0]?.text;
  const note = person?.notes[0]?.text ?? publishedNote ?? network?.notes[0]?.text ?? null;
  return {
    subscriber: s.subscriber,
    version: s.version,
    basic: doc.services.some((t) => t.basic === 'open') ? 'open' : 'closed',
    networkState: s.network.state,
    callState: callStateOf(s),
    // Anonymous: what a requester in none of the contact lists would get.
    connectability: connectabilityFor(s, o.availability ?? DEFAULT_PROFILES, o.at ?? s.updatedAt).connectability,
    servingNode: servingNodeOf(s),
    cellGlobalId: s.location?.cellGlobalId ?? null,
    activities: person && person.activities.length > 0 ? person.activities.join(',') : null,
    note,
    pidf: renderPidf(doc),
    // The calls as group BLF watchers may see them: no identities (the group path has no per-watcher rules).
    dialogs: JSON.stringify(callDialogs(s, { entity: '', showIdentities: false })),
    updatedAt: s.updatedAt,
  };
}
