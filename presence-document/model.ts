// Presence data model of RFC 4479 as carried by PIDF (RFC 3863) with RPID
// (RFC 4480) extensions. Shared by the parser here and the renderer elsewhere,
// so it is plain data: no classes, no XML specifics beyond what round-trips.

export interface PresenceNote {
  readonly text: string;
  readonly lang?: string;
}

/** RFC 3863 <basic>: the only status the PIDF core defines. */
export type BasicStatus = 'open' | 'closed';

export interface PresenceContact {
  readonly uri: string;
  /** 0..1, higher is preferred (RFC 3863 §4.1.5). */
  readonly priority?: number;
}

/**
 * A position as RFC 4119 (PIDF-LO, with RFC 5491's shapes) carries it in a
 * tuple's status: <gp:geopriv> with <gp:location-info> holding a gml:Point or a
 * gs:Circle (WGS 84, EPSG 4326), the usage rules and the method.
 */
export interface GeoprivLocation {
  readonly latitude: number;
  readonly longitude: number;
  /** gs:Circle radius in meters; absent for a gml:Point. */
  readonly radiusMeters?: number;
  /** <gp:method>: how it was found (A-GPS, Cell, …). */
  readonly method?: string;
  /** <gbp:retransmission-allowed>: whether the watcher may pass it on. */
  readonly retransmissionAllowed: boolean;
  /** <gbp:retention-expiry>, RFC 3339. */
  readonly retentionExpiry?: string;
}

/** <tuple>: a service (RFC 4479 §3.1). */
export interface PresenceService {
  readonly id: string;
  readonly basic?: BasicStatus;
  readonly contact?: PresenceContact;
  readonly notes: readonly PresenceNote[];
  /** RFC 3339 timestamp text as sent. */
  readonly timestamp?: string;
  /** <dm:deviceID> references to devices running the service. */
  readonly deviceIds: readonly string[];
  /** RPID elements placed on the tuple (RFC 4480 allows some per service). */
  readonly activities: readonly string[];
  readonly serviceClass?: string;
  readonly userInput?: string;
  /** A location in the tuple's status (RFC 4119 §2.2.1). */
  readonly geopriv?: GeoprivLocation;
}

/** <dm:person>: the presentity as a human (RFC 4479 §3.2). */
export interface PresencePerson {
  readonly id: string;
  /** RPID <activities> children, e.g. 'on-the-phone', 'away', 'meeting'; <other> text as 'other:<text>'. */
  readonly activities: readonly string[];
  readonly mood: readonly string[];
  readonly placeType: readonly string[];
  readonly userInput?: string;
  readonly notes: readonly PresenceNote[];
  readonly timestamp?: string;
}

/** <dm:device> (RFC 4479 §3.3). */
export interface PresenceDevice {
  readonly id: string;
  readonly deviceId?: string;
  readonly userInput?: string;
  readonly notes: readonly PresenceNote[];
  readonly timestamp?: string;
}

export interface PresenceDocument {
  /** pres: or sip: URI of the presentity (RFC 3863 §4.1.1). */
  readonly entity: string;
  readonly services: readonly PresenceService[];
  readonly persons: readonly PresencePerson[];
  readonly devices: readonly PresenceDevice[];
  /** <note> directly under <presence>. */
  readonly notes: readonly PresenceNote[];
}
