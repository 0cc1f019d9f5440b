// Building and serialising the SIP messages we send.
export { BRANCH_MAGIC_COOKIE, newBranch, newTag } from './ids.ts';
export { outgoingHeader, type OutgoingMessage, type OutgoingRequest, type OutgoingResponse, type SipHeaderLine } from './outgoing.ts';
export { serialize } from './serialize.ts';
export {
  buildRequest,
  buildResponse,
  buildResponseFrom,
  viaValue,
  DEFAULT_MAX_FORWARDS,
  type RequestSpec,
  type ResponseIdentity,
  type ResponseSpec,
  type ViaSpec,
} from './build.ts';
