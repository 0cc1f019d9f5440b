// The group presence API (groupPresenceApi.ts) as an OpenAPI 3.1 document,
// served at GET /openapi.json. openapi.test.ts walks it against the server, so
// a route or status added to one and not the other fails there.
import {
  BEARER,
  bearerScheme,
  commonResponses,
  errorResponse,
  errorSchema,
  OPENAPI_PATH,
  openApiOperation,
  ref,
  type OpenApiDocument,
  type Operation,
} from '../../../protocols/http/openApi.ts';

const etagVary = {
  ETag: { description: '"<version>" for JSON, "<version>-rlmi" for multipart/related.', schema: { type: 'string' } },
  Vary: { description: 'Accept, X-Presence-Watcher: the answer depends on both.', schema: { type: 'string' } },
};
const databaseDown = errorResponse('PostgreSQL does not answer; retry later.', { 'Retry-After': { description: 'Seconds.', schema: { type: 'string' } } });

/** GET and HEAD answer alike (HEAD without the body). */
const presence = (operationId: string, summary: string): Operation => ({
  operationId,
  summary,
  description:
    "The group's current presence as the requester may see it. With a token that names a user, the requester is that user (naming another is 403); " +
    'a service client (presence:any, no identity) names the requester in ?watcher= or X-Presence-Watcher. Without tokens configured the requester is as named.',
  // presence:any is needed as well by a client that acts for no user (checked per token, not expressible as a second requirement).
  security: [{ [BEARER]: ['presence:read'] }],
  parameters: [
    {
      name: 'id',
      in: 'path',
      required: true,
      description: 'The group id.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' },
      example: 'g-1',
    },
    { name: 'watcher', in: 'query', description: "The requester's sip:/sips:/tel: URI.", schema: { type: 'string' }, example: 'sip:bob@example.com' },
    { name: 'X-Presence-Watcher', in: 'header', description: 'The requester, as an alternative to ?watcher=.', schema: { type: 'string' } },
    { name: 'Accept', in: 'header', description: 'multipart/related for the RFC 4662 body (RLMI first); JSON otherwise.', schema: { type: 'string' } },
    { name: 'If-None-Match', in: 'header', description: 'Entity tags (or *); 304 when one matches.', schema: { type: 'string' } },
  ],
  responses: {
    '200': {
      description: 'The presence document as this requester may see it.',
      headers: etagVary,
      content: {
        'application/json': { schema: ref('schemas', 'GroupPresence') },
        'multipart/related': { schema: { type: 'string', description: "RFC 4662 resource list body: RLMI, then each member's PIDF." } },
      },
    },
    '304': { description: 'If-None-Match matched.', headers: etagVary },
    '400': errorResponse('A malformed group id, or no (or more than one, or a malformed) requester URI.'),
    '401': ref('responses', 'Unauthorized'),
    '403': errorResponse('The token lacks presence:read (or presence:any), names another user, or the requester is an outsider of a members-only group.'),
    '404': errorResponse('No presence for this group.'),
    '500': ref('responses', 'InternalError'),
    '503': databaseDown,
  },
});

const health = (operationId: string): Operation => ({
  operationId,
  summary: 'Whether the database answers, and how many groups it holds; needs no token',
  security: [],
  responses: {
    '200': {
      description: 'The database answers.',
      content: {
        'application/json': {
          schema: { type: 'object', required: ['database', 'groups'], properties: { database: { const: 'up' }, groups: { type: 'integer' } } },
        },
      },
    },
    '500': ref('responses', 'InternalError'),
    '503': databaseDown,
  },
});

export const groupPresenceOpenApi: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Group presence API',
    version: '1',
    description:
      "The group_presence table over HTTP: a group's presence document as one requester may see it. " +
      'Errors are JSON {error}. Every path answers 405 with Allow to a method it does not document (/openapi.json: GET only), and any other path is 404.',
  },
  paths: {
    '/groups/{id}/presence': {
      get: presence('getGroupPresence', "A group's presence for one requester"),
      head: presence('headGroupPresence', 'As GET, without the body'),
    },
    '/healthz': { get: health('health'), head: health('headHealth') },
    [OPENAPI_PATH]: { get: openApiOperation },
  },
  components: {
    securitySchemes: { [BEARER]: bearerScheme },
    responses: commonResponses,
    schemas: {
      Error: errorSchema,
      GroupPresence: {
        type: 'object',
        required: ['groupId', 'uri', 'name', 'version', 'updatedAt', 'adminPolicy', 'memberCount', 'requester', 'members'],
        properties: {
          groupId: { type: 'string' },
          uri: { type: 'string' },
          name: { type: 'string' },
          version: { type: 'integer' },
          updatedAt: { type: 'string', format: 'date-time' },
          adminPolicy: { enum: ['members-only', 'anyone'] },
          memberCount: { type: 'integer' },
          requester: {
            type: 'object',
            required: ['uri', 'member', 'role'],
            properties: { uri: { type: 'string' }, member: { type: 'boolean' }, role: { type: ['string', 'null'] } },
          },
          members: {
            type: 'array',
            items: {
              type: 'object',
              required: ['uri', 'state'],
              properties: {
                uri: { type: 'string' },
                displayName: { type: ['string', 'null'] },
                role: { type: ['string', 'null'] },
                state: { type: 'string', description: 'RLMI instance state: active, pending or terminated.' },
                reason: { type: ['string', 'null'] },
                pidf: { type: ['string', 'null'], description: "The member's PIDF as this requester may see it." },
              },
            },
          },
        },
      },
    },
  },
};
