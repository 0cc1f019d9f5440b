// Subscriber identity normalisation: MSISDN (E.164), IMSI, SIP AoR → one key.
export { normalizeMsisdn, isE164, type NumberingPlan } from './msisdn.ts';
export { normalizeImsi, isValidImsi } from './imsi.ts';
export { uriIdentity, sipAor, type UriIdentity } from './aor.ts';
export { subscriberKey, type SubscriberKey, type SubscriberIdentities } from './subscriberKey.ts';
