// What other parts of the gateway use from group presence (the group
// front/sink's HTTP API and SIP routing).
export { visibleGroupDocument, type VisibleGroupDocument } from './policy/visibleGroupDocument.ts';
export { receivingFromAttributes, receivingFromFilter, ReceivingPolicyError, ACCEPT_ALL, type ReceivingPolicy } from './policy/receiving.ts';
export { mayWatch, adminPolicyOf } from './policy/authorization.ts';
export { groupPresentity } from './groupState.ts';
export { startGroupPresence, type GroupPresenceService } from './groupPresenceService.ts';
