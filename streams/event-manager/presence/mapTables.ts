// MAP facts as data: which errors mean what for presence, which operations
// count as which activity. Names are TS 29.002 ASN.1 names as the decoder
// reports them.
import type { ActivityKind, Domain, NetworkStateName } from './model.ts';

/** Location-updating operations and the domain they attach. */
export const ATTACH_OPERATIONS: Readonly<Record<string, Domain>> = {
  updateLocation: 'cs',
  updateGprsLocation: 'ps',
};

/** updateLocation errors by which the HLR refuses the subscriber in that VLR/SGSN: not attached. Others (systemFailure, dataMissing...) leave the previous state. */
export const ATTACH_REFUSED_ERRORS: ReadonlySet<string> = new Set([
  'unknownSubscriber',
  'roamingNotAllowed',
  'illegalSubscriber',
  'illegalEquipment',
  'unknownEquipment',
]);

/** Errors of routing / delivery operations that say the subscriber cannot be reached now. */
export const UNREACHABLE_ERRORS: ReadonlySet<string> = new Set(['absentSubscriber', 'absentSubscriberSM']);
export const ROUTING_OPERATIONS: ReadonlySet<string> = new Set([
  'sendRoutingInfo',
  'sendRoutingInfoForSM',
  'mt-ForwardSM',
  'forwardSM',
  'provideRoamingNumber',
]);

/** anyTimeInterrogation subscriberState → network state (notProvidedFromVLR says nothing). */
export const SUBSCRIBER_STATES: Readonly<Record<string, NetworkStateName>> = {
  assumedIdle: 'attached',
  camelBusy: 'attached',
  'netDetNotReachable:msPurged': 'purged',
  'netDetNotReachable:imsiDetached': 'detached',
  'netDetNotReachable:restrictedArea': 'detached',
  'netDetNotReachable:notRegistered': 'detached',
  netDetNotReachable: 'detached',
};

/** Invokes that are activity of the subscriber. forwardSM (MAP v1/v2) is resolved by direction elsewhere. */
export const ACTIVITY_INVOKES: Readonly<Record<string, ActivityKind>> = {
  'mo-ForwardSM': 'sms-sent',
  'mt-ForwardSM': 'sms-received',
  sendRoutingInfo: 'incoming-call-attempt',
  sendRoutingInfoForSM: 'incoming-sms-attempt',
};
