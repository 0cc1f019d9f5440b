// What other parts of the gateway use from group presence (the group
// front/sink's HTTP API and SIP routing).
export { visibleGroupDocument } from './policy/visibleGroupDocument.ts';
export { startGroupPresence, type GroupPresenceService } from './groupPresenceService.ts';
