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
import { requesterParameter, viewParameter } from '../../../protocols/http/queryRequester.ts';

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
        description:
          "The presence's connectability (and the `cn:connectability` element of its PIDF) is computed for the requester (issue 16.3) from the subscriber's active profile, " +
          "its mode and contact lists now, and the requester's watcher rule (consent): a token's user is the requester and gets the presence only (403 when the presentity blocks it); " +
          'a service client may name one with `requester`; none named: what a requester in none of the lists gets.',
        security: [{ [BEARER]: ['subscribers:read'] }],
        parameters: [pathParameter('key', 'The subscriber key, URL-encoded.', 'msisdn:+351910000077'), requesterParameter, viewParameter],
        responses: {
          '200': { description: 'What the member holds.', content: { 'application/json': { schema: ref('schemas', 'Subscriber') } } },
          '400': {
            description: 'The requester is not a URI of a user, or more than one was named.',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['error', 'parameter'], properties: { error: { type: 'string' }, parameter: { type: 'string' } } },
              },
            },
          },
          '401': ref('responses', 'Unauthorized'),
          '403': ref('responses', 'Forbidden'),
          '404': keyError("The member holds the key's partition but no state for it yet."),
          '421': keyError("Another member holds the key's partition: ask its owner (presence locate)."),
          '500': ref('responses', 'InternalError'),
          '503': starting,
        },
      },
    },
    '/subscribers/{key}/call-handling': {
      get: {
        operationId: 'decideCall',
        summary: 'What to do with a call or message to a subscriber this member owns, now (issue 16 part 5)',
        description:
          'From the live state in the store (reachable, in a call, registered contacts), the active profile and mode for this caller, and its contact lists: ' +
          'accept (to the registered contacts), reject (busy, not-available, unreachable, declined, unknown), forward (to a number or a terminal), voicemail, notify-only. ' +
          'An urgent call from a caller on the allowed list overrides the mode and a call in progress. The profiles come from a brief cache (PostgreSQL behind it).',
        security: [{ [BEARER]: ['calls:decide'] }],
        parameters: [
          pathParameter('key', 'The callee: a subscriber key, URL-encoded.', 'msisdn:+351910000077'),
          {
            name: 'caller',
            in: 'query',
            required: false,
            description: 'The caller (sip:, sips: or tel: URI); absent: anonymous.',
            schema: { type: 'string' },
            example: 'sip:boss@corp.example',
          },
          {
            name: 'medium',
            in: 'query',
            required: false,
            description: 'Default voice.',
            schema: { type: 'string', enum: ['voice', 'video', 'message'] },
            example: 'voice',
          },
          {
            name: 'urgent',
            in: 'query',
            required: false,
            description: 'An urgent call (SIP Priority: urgent or emergency).',
            schema: { type: 'boolean' },
            example: false,
          },
          {
            name: 'voicemail',
            in: 'query',
            required: false,
            description: 'The asker has a voicemail system: busy, unreachable and not-available calls go there instead of being rejected.',
            schema: { type: 'boolean' },
          },
          {
            name: 'at',
            in: 'query',
            required: false,
            description: 'Decide as at this instant (default now).',
            schema: { type: 'string', format: 'date-time' },
          },
        ],
        responses: {
          '200': { description: 'The decision.', content: { 'application/json': { schema: ref('schemas', 'CallDecision') } } },
          '400': {
            description: 'A bad or unknown query parameter, named.',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['error', 'parameter'], properties: { error: { type: 'string' }, parameter: { type: 'string' } } },
              },
            },
          },
          '401': ref('responses', 'Unauthorized'),
          '403': ref('responses', 'Forbidden'),
          '404': keyError("The member holds the key's partition but no state for it (presence knows nothing of it yet)."),
          '421': keyError("Another member holds the key's partition (it moved, or the asker's owner table is stale): ask its owner (presence locate)."),
          '500': ref('responses', 'InternalError'),
          '503': errorResponse('The member is starting, or the availability profiles cannot be read (database outage): retry.', {
            'Retry-After': { description: 'Seconds.', schema: { type: 'string' } },
          }),
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
      CallDecision: {
        type: 'object',
        required: ['memberId', 'key', 'partition', 'at', 'action', 'targets', 'urgentOverride', 'why'],
        properties: {
          memberId: { type: 'string' },
          key: { type: 'string' },
          partition: { type: 'integer' },
          at: { type: 'string', format: 'date-time', description: 'The instant the rules were evaluated at.' },
          action: { type: 'string', enum: ['accept', 'reject', 'forward', 'voicemail', 'notify-only'] },
          reason: { type: 'string', enum: ['busy', 'not-available', 'unreachable', 'declined', 'unknown'], description: 'Why the call is not put through.' },
          targets: {
            type: 'array',
            description: 'accept: the registered contacts (empty: route as dialled); forward: where to.',
            items: {
              type: 'object',
              required: ['uri', 'kind'],
              properties: {
                uri: { type: 'string' },
                kind: { type: 'string', enum: ['number', 'terminal', 'contact'] },
                terminal: { type: 'string', enum: ['fixed', 'mobile', 'voip', 'sms', 'mms', 'email'] },
              },
            },
          },
          mode: { type: 'string', description: 'The availability mode in force for this caller.' },
          urgentOverride: { type: 'boolean' },
          why: { type: 'string' },
        },
      },
      Subscriber: {
        type: 'object',
        required: ['memberId', 'key', 'partition', 'requester', 'presence'],
        properties: {
          memberId: { type: 'string' },
          key: { type: 'string' },
          partition: { type: 'integer' },
          requester: { type: ['string', 'null'], description: 'Whose connectability the presence carries; null: anonymous.' },
          presence: {
            type: 'object',
            description:
              "The presence as this requester's watcher dialog would see it: connectability is the requester's (connectable, not-connectable, subject-to-authorization, in-transfer, unknown).",
          },
          publications: {
            type: 'array',
            items: { type: 'object', properties: { etag: { type: 'string' }, publishedAt: { type: 'string' }, expiresAt: { type: 'string' } } },
          },
          watchers: {
            type: 'array',
            description: "Absent when a user's token asks (the dialogs are the operator's to see).",
            items: { type: 'object', description: 'A watcher dialog: event, callId, URIs, state, CSeqs, version, expiry.' },
          },
        },
      },
    },
  },
};
