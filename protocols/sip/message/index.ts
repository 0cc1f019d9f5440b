// Building and serialising the SIP messages we send.
export { BRANCH_MAGIC_COOKIE, newBranch, newCallId, newTag } from './ids.ts';
export { outgoingHeader, type OutgoingMessage, type OutgoingRequest, type OutgoingResponse, type SipHeaderLine } from './outgoing.ts';
export { serialize, startLine } from './serialize.ts';
export {
  buildRequest,
  buildResponse,
  buildResponseFrom,
  responseIdentity,
  viaValue,
  DEFAULT_MAX_FORWARDS,
  type RequestSpec,
  type ResponseIdentity,
  type ResponseSpec,
  type ViaSpec,
} from './build.ts';
