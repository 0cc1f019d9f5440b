// Which parameter fields carry presence, per MAP operation, for the invoke
// argument and the result (3GPP TS 29.002 §17.7 ASN.1). A spec starts at the
// parameter element itself, so v1/v2 (untagged SEQUENCE or bare value) and
// v3 ([3] SEQUENCE) encodings can be listed side by side.
import {
  absentSubscriberDiagnosticSM,
  absentSubscriberReason,
  address,
  ageOfLocation,
  cellGlobalId,
  hex,
  imsi,
  lai,
  locationMscNumber,
  locationVlrNumber,
  requestedInfo,
  smsOriginator,
  subscriberState,
  type Spec,
} from './paramWalker.ts';

const msisdn = address('msisdn');
const vlrNumber = address('vlrNumber');
const mscNumber = address('mscNumber');
const sgsnNumber = address('sgsnNumber');
const hlrNumber = address('hlrNumber');
const roamingNumber = address('roamingNumber');
const serviceCentre = address('serviceCentre');
const lmsi = hex('lmsi');

/** LocationInformation (§17.7.3). */
const locationInformation: Spec = {
  0x02: ageOfLocation,
  0x81: locationVlrNumber,
  0xa3: { 0x80: cellGlobalId, 0x81: lai }, // cellGlobalIdOrServiceAreaIdOrLAI CHOICE
  0x86: locationMscNumber,
};

/** SubscriberInfo (§17.7.3). */
const subscriberInfo: Spec = { 0xa0: locationInformation, 0xa1: subscriberState };

/** SM-RP-DA / SM-RP-OA choices as they appear inside (MO/MT-)ForwardSM-Arg. */
const forwardSmArg: Spec = {
  0x30: { 0x80: imsi, 0x81: lmsi, 0x82: msisdn, 0x83: roamingNumber, 0x84: serviceCentre, 0x04: smsOriginator },
};

const hlrNumberResult: Spec = { 0x30: { 0x04: hlrNumber }, 0x04: hlrNumber };
const cancelIdentity: Spec = { 0x04: imsi, 0x30: { 0x04: [imsi, lmsi] } };

export const INVOKE_PARAMS: Readonly<Record<number, Spec>> = {
  2: { 0x30: { 0x04: [imsi, vlrNumber], 0x81: mscNumber, 0x8a: lmsi } }, // updateLocation
  3: { 0xa3: cancelIdentity, 0x30: cancelIdentity, 0x04: imsi }, // cancelLocation (v3 / v2 imsi-WithLMSI / v2 imsi)
  4: { 0x30: { 0x80: imsi, 0x81: mscNumber, 0x82: msisdn, 0x84: lmsi } }, // provideRoamingNumber
  5: { 0x30: { 0x04: [imsi, msisdn] } }, // noteSubscriberDataModified
  7: { 0x30: { 0x80: imsi, 0x81: msisdn } }, // insertSubscriberData
  8: { 0x30: { 0x80: imsi } }, // deleteSubscriberData
  15: { 0x30: { 0x04: imsi } }, // authenticationFailureReport
  22: { 0x30: { 0x80: msisdn } }, // sendRoutingInfo
  23: { 0x30: { 0x04: [imsi, sgsnNumber] } }, // updateGprsLocation
  24: { 0x30: { 0x80: imsi } }, // sendRoutingInfoForGprs
  25: { 0x30: { 0x04: imsi } }, // failureReport
  26: { 0x30: { 0x80: imsi } }, // noteMsPresentForGprs
  44: forwardSmArg, // mt-ForwardSM
  45: { 0x30: { 0x80: msisdn, 0x82: serviceCentre } }, // sendRoutingInfoForSM
  46: forwardSmArg, // mo-ForwardSM / forwardSM (v1/v2, both directions)
  47: { 0x30: { 0x04: [msisdn, serviceCentre] } }, // reportSM-DeliveryStatus
  49: { 0x30: { 0x04: [msisdn, serviceCentre] } }, // alertServiceCentreWithoutResult
  55: { 0x30: { 0x04: hex('tmsi') }, 0x04: hex('tmsi') }, // sendIdentification (v3 / v2)
  56: { 0x30: { 0x80: imsi }, 0x04: imsi }, // sendAuthenticationInfo (v3 / v2)
  57: { 0x30: { 0x04: [imsi, lmsi] } }, // restoreData
  58: { 0x04: msisdn }, // sendIMSI
  59: { 0x30: { 0x80: msisdn } }, // processUnstructuredSS-Request
  60: { 0x30: { 0x80: msisdn } }, // unstructuredSS-Request
  61: { 0x30: { 0x80: msisdn } }, // unstructuredSS-Notify
  64: { 0x30: { 0x04: [msisdn, serviceCentre] } }, // alertServiceCentre
  66: { 0x30: { 0x80: imsi } }, // readyForSM
  67: { 0xa3: { 0x04: imsi, 0x80: vlrNumber, 0x81: sgsnNumber }, 0x30: { 0x04: [imsi, vlrNumber] } }, // purgeMS
  70: { 0x30: { 0x80: imsi, 0x81: lmsi, 0xa2: requestedInfo } }, // provideSubscriberInfo
  71: { 0x30: { 0xa0: { 0x80: imsi, 0x81: msisdn }, 0xa1: requestedInfo, 0x83: address('gsmScfAddress') } }, // anyTimeInterrogation
  89: { 0x30: { 0x82: imsi, 0x83: msisdn } }, // noteMM-Event
};

export const RESULT_PARAMS: Readonly<Record<number, Spec>> = {
  2: hlrNumberResult, // updateLocation
  4: { 0x30: { 0x04: roamingNumber }, 0x04: roamingNumber }, // provideRoamingNumber (v3 / v2)
  22: {
    // sendRoutingInfo v3: [3] SEQUENCE; v2: SEQUENCE { imsi, routingInfo CHOICE { roamingNumber, forwardingData } }
    0xa3: { 0x89: imsi, 0x04: roamingNumber, 0x82: mscNumber /* vmsc-Address */, 0xa7: subscriberInfo, 0x8c: msisdn },
    0x30: { 0x04: [imsi, roamingNumber] },
  },
  23: hlrNumberResult, // updateGprsLocation
  45: {
    // sendRoutingInfoForSM: imsi, locationInfoWithLMSI [0] { networkNode-Number [1], lmsi, additional-Number [6] }
    0x30: {
      0x04: imsi,
      0xa0: { 0x81: address('networkNodeNumber'), 0x04: lmsi, 0xa6: { 0x80: mscNumber, 0x81: sgsnNumber } },
    },
  },
  47: { 0x30: { 0x04: msisdn } }, // reportSM-DeliveryStatus (storedMSISDN)
  55: { 0xa3: { 0x04: imsi }, 0x30: { 0x04: imsi } }, // sendIdentification (v3 / v2)
  57: hlrNumberResult, // restoreData
  58: { 0x04: imsi }, // sendIMSI
  70: { 0x30: { 0x30: subscriberInfo } }, // provideSubscriberInfo
  71: { 0x30: { 0x30: subscriberInfo } }, // anyTimeInterrogation
};

/** Error parameters that say why a subscriber is unreachable (TS 29.002 §17.7.5). */
export const ERROR_PARAMS: Readonly<Record<number, Spec>> = {
  27: { 0x30: { 0x80: absentSubscriberReason } }, // absentSubscriber: AbsentSubscriberParam
  6: { 0x30: { 0x02: absentSubscriberDiagnosticSM } }, // absentSubscriberSM: AbsentSubscriberSM-Param
};
