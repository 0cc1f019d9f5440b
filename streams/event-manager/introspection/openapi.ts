// The member API (memberApi.ts) as an OpenAPI 3.1 document, served at
// GET /openapi.json. openapi.test.ts walks it against the server, so a route or
// status added to one and not the other fails there.
import {
  BEARER,
  bearerScheme,
  commonResponses,
  errorResponse,
  errorSchema,
  OPENAPI_PATH,
  pathParameter,
  openApiOperation,
  ref,
  type OpenApiDocument,
} from '../../../protocols/http/openApi.ts';

const starting = errorResponse('The member is starting (its API listens before it can answer).', {
  'Retry-After': { description: 'Seconds.', schema: { type: 'string' } },
});
const keyError = (description: string) => ({
  description,
  content: {
    'application/json': {
      schema: { type: 'object', required: ['error', 'partition'], properties: { error: { type: 'string' }, partition: { type: 'integer' } } },
    },
  },
});

export const memberApiOpenApi: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Event manager member API',
    version: '1',
    description:
      'Asked about a subscriber, the member that owns it answers from its store (what `presence watchers` and `presence locate` use). ' +
      'Answers are live state (Cache-Control: no-store). Every path answers 405 to a method other than GET, and any other path is 404.',
  },
  paths: {
    '/subscribers/{key}': {
      get: {
        operationId: 'getSubscriber',
        summary: 'Presence, publications and watcher dialogs of a subscriber this member owns',
        security: [{ [BEARER]: ['subscribers:read'] }],
        parameters: [pathParameter('key', 'The subscriber key, URL-encoded.', 'msisdn:+351910000077')],
        responses: {
          '200': { description: 'What the member holds.', content: { 'application/json': { schema: ref('schemas', 'Subscriber') } } },
          '401': ref('responses', 'Unauthorized'),
          '403': ref('responses', 'Forbidden'),
          '404': keyError("The member holds the key's partition but no state for it yet."),
          '421': keyError("Another member holds the key's partition: ask its owner (presence locate)."),
          '500': ref('responses', 'InternalError'),
          '503': starting,
        },
      },
    },
    '/stats': {
      get: {
        operationId: 'stats',
        summary: "The member's counters and partitions (no personal data); needs no token",
        security: [],
        responses: {
          '200': {
            description: 'Counters.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['memberId', 'partitions', 'eventManager', 'processor'],
                  properties: {
                    memberId: { type: 'string' },
                    partitions: { type: 'array', items: { type: 'integer' } },
                    eventManager: { type: 'object' },
                    processor: { type: 'object' },
                  },
                },
              },
            },
          },
          '500': ref('responses', 'InternalError'),
          '503': starting,
        },
      },
    },
    [OPENAPI_PATH]: { get: openApiOperation },
  },
  components: {
    securitySchemes: { [BEARER]: bearerScheme },
    responses: commonResponses,
    schemas: {
      Error: errorSchema,
      Subscriber: {
        type: 'object',
        required: ['memberId', 'key', 'partition', 'presence', 'publications', 'watchers'],
        properties: {
          memberId: { type: 'string' },
          key: { type: 'string' },
          partition: { type: 'integer' },
          presence: { type: 'object', description: 'The presence as watchers see it.' },
          publications: {
            type: 'array',
            items: { type: 'object', properties: { etag: { type: 'string' }, publishedAt: { type: 'string' }, expiresAt: { type: 'string' } } },
          },
          watchers: { type: 'array', items: { type: 'object', description: 'A watcher dialog: event, callId, URIs, state, CSeqs, version, expiry.' } },
        },
      },
    },
  },
};
