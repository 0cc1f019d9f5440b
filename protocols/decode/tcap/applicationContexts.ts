// GSM MAP application contexts (3GPP TS 29.002 §17.3.3): OID
// 0.4.0.0.1.0.<ac>.<version> {itu-t identified-organization etsi mobileDomain
// gsm-Network applicationContext ac version}. Named "<ac>-v<version>".
const MAP_AC_PREFIX = '0.4.0.0.1.0.';

const MAP_APPLICATION_CONTEXTS: Readonly<Record<number, string>> = {
  1: 'networkLocUpContext',
  2: 'locationCancellationContext',
  3: 'roamingNumberEnquiryContext',
  4: 'istAlertingContext',
  5: 'locationInfoRetrievalContext',
  6: 'callControlTransferContext',
  7: 'reportingContext',
  8: 'callCompletionContext',
  9: 'serviceTerminationContext',
  10: 'resetContext',
  11: 'handoverControlContext',
  12: 'sIWFSAllocationContext',
  13: 'equipmentMngtContext',
  14: 'infoRetrievalContext',
  15: 'interVlrInfoRetrievalContext',
  16: 'subscriberDataMngtContext',
  17: 'tracingContext',
  18: 'networkFunctionalSsContext',
  19: 'networkUnstructuredSsContext',
  20: 'shortMsgGatewayContext',
  21: 'shortMsgMO-RelayContext',
  22: 'subscriberDataModificationNotificationContext',
  23: 'shortMsgAlertContext',
  24: 'mwdMngtContext',
  25: 'shortMsgMT-RelayContext',
  26: 'imsiRetrievalContext',
  27: 'msPurgingContext',
  28: 'subscriberInfoEnquiryContext',
  29: 'anyTimeInfoEnquiryContext',
  31: 'groupCallControlContext',
  32: 'gprsLocationUpdateContext',
  33: 'gprsLocationInfoRetrievalContext',
  34: 'failureReportContext',
  35: 'gprsNotifyContext',
  36: 'ss-InvocationNotificationContext',
  37: 'locationSvcGatewayContext',
  38: 'locationSvcEnquiryContext',
  39: 'authenticationFailureReportContext',
  40: 'secureTransportHandlingContext',
  41: 'shortMsgMT-Relay-VGCS-Context',
  42: 'mm-EventReportingContext',
  43: 'anyTimeInfoHandlingContext',
  44: 'resourceManagementContext',
  45: 'groupCallInfoRetrievalContext',
  46: 'vcsgLocationUpdateContext',
  47: 'vcsgLocationCancellationContext',
};

interface AppContextInfo {
  /** e.g. "networkLocUpContext-v3"; undefined when not a known MAP context. */
  name?: string;
  /** MAP application context version (1-4), when a MAP context. */
  mapVersion?: number;
}

const cache = new Map<string, AppContextInfo>();

/** Names a dialogue application context OID (cached: a network uses only a few dozen). */
export function appContextInfo(oid: string): AppContextInfo {
  let info = cache.get(oid);
  if (info) return info;
  info = {};
  if (oid.startsWith(MAP_AC_PREFIX)) {
    const rest = oid.slice(MAP_AC_PREFIX.length).split('.');
    const ac = MAP_APPLICATION_CONTEXTS[Number(rest[0])];
    if (ac && rest.length === 2) {
      info = { name: `${ac}-v${rest[1]}`, mapVersion: Number(rest[1]) };
    }
  }
  if (cache.size < 1024) cache.set(oid, info);
  return info;
}
