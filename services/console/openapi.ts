// The web console's JSON API (consoleServer.ts) as an OpenAPI 3.1 document,
// served at GET /openapi.json. Its two server-sent-event streams are named in
// the description, not as operations: a stream never ends, so no client
// generator or walk could call them as request/response. openapi.test.ts walks
// the document against the server, read-only and with management.
import {
  BEARER,
  bearerScheme,
  commonResponses,
  errorResponse,
  errorSchema,
  OPENAPI_PATH,
  openApiOperation,
  pathParameter,
  ref,
  type OpenApiDocument,
  type Operation,
  type Response,
} from '../../protocols/http/openApi.ts';
import { SESSION_COOKIE } from './consoleSessions.ts';

/** The session cookie a console:manage bearer token is traded for (POST /api/session). */
const SESSION = 'consoleSession';
const SESSION_ONLY = [{ [SESSION]: [] }];
const OPEN: Operation['security'] = [];

const json = (description: string, schema: Record<string, unknown> = { type: 'object' }): Response => ({
  description,
  content: { 'application/json': { schema } },
});

/** Every change: only with management on (else 405), from the console's own origin (else 403), as JSON (415, 413, 400). */
const changeAnswers = {
  '400': ref('responses', 'BadRequest'),
  '403': ref('responses', 'OtherOrigin'),
  '405': ref('responses', 'ReadOnly'),
  '413': ref('responses', 'TooLarge'),
  '415': ref('responses', 'NotJson'),
  '500': ref('responses', 'InternalError'),
};
/** A change that needs a logged-in session. */
const sessionAnswers = { ...changeAnswers, '401': ref('responses', 'NoSession') };

export const consoleOpenApi: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Web console API',
    version: '1',
    description:
      'The JSON side of `presence run console`: read-only views of the pipeline (open: the console listens on loopback by default), and, ' +
      'with `--manage`, changes after a login that trades a `console:manage` bearer token for an HttpOnly SameSite=Strict session cookie. ' +
      'Changes must come from the console’s own origin and carry JSON. Besides these, two server-sent-event streams: `GET /api/stream` ' +
      '(status, members, flow, moves, lag, groups, replay, scale) and `GET /api/subscribers/{key}/stream` (one subscriber’s watchers and changes). ' +
      'Errors are JSON {error}. Any other method answers 405, any other path 404.',
  },
  paths: {
    '/api/session': {
      get: {
        operationId: 'getSession',
        summary: 'Whether management is on and this browser is logged in',
        security: OPEN,
        responses: {
          '200': json('The session state.', {
            type: 'object',
            required: ['management', 'loggedIn', 'client', 'expiresAt'],
            properties: {
              management: { type: 'boolean' },
              loggedIn: { type: 'boolean' },
              client: { type: ['string', 'null'] },
              expiresAt: { type: ['integer', 'null'], description: 'Epoch ms.' },
            },
          }),
        },
      },
      post: {
        operationId: 'logIn',
        summary: 'Trade a bearer token with the console:manage scope for a session cookie (1 h)',
        security: [{ [BEARER]: ['console:manage'] }],
        responses: {
          '200': {
            description: 'Logged in; the cookie is set.',
            headers: { 'Set-Cookie': { description: `${SESSION_COOKIE}=…; HttpOnly; SameSite=Strict; Path=/api`, schema: { type: 'string' } } },
            content: { 'application/json': { schema: { type: 'object', required: ['loggedIn'], properties: { loggedIn: { type: 'boolean' } } } } },
          },
          '401': ref('responses', 'Unauthorized'),
          '403': ref('responses', 'Forbidden'),
          '405': ref('responses', 'ReadOnly'),
          '500': ref('responses', 'InternalError'),
        },
      },
      delete: {
        operationId: 'logOut',
        summary: 'End this browser’s session',
        security: OPEN,
        responses: {
          '200': json('Logged out; the cookie is cleared.'),
          '403': ref('responses', 'OtherOrigin'),
          '405': ref('responses', 'ReadOnly'),
          '500': ref('responses', 'InternalError'),
        },
      },
    },
    '/api/scale': {
      get: {
        operationId: 'getScale',
        summary: 'Whether scaling is offered, and the scale request in progress or last done',
        security: OPEN,
        responses: { '200': json('Scaling state.') },
      },
      post: {
        operationId: 'scaleEventManagers',
        summary: 'Start or stop event manager members until this many run',
        security: SESSION_ONLY,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['eventManagers'], properties: { eventManagers: { type: 'integer', minimum: 0 } } },
              example: { eventManagers: 1 },
            },
          },
        },
        responses: { '202': json('Under way; progress on the stream.'), '409': errorResponse('A scale request is still under way.'), ...sessionAnswers },
      },
    },
    '/api/replays': {
      get: {
        operationId: 'listReplays',
        summary: 'The captures that can be replayed and the replay in progress',
        security: OPEN,
        responses: { '200': json('Captures and the current replay.') },
      },
      post: {
        operationId: 'startReplay',
        summary: 'Replay a capture into the pipeline',
        security: SESSION_ONLY,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['capture'], properties: { capture: { type: 'string' }, speed: { type: 'number' } } },
              example: { capture: 'no-such-capture.pcap' },
            },
          },
        },
        responses: {
          '202': json('Started; progress on the stream.'),
          '409': errorResponse('A replay is running.'),
          '503': ref('responses', 'KafkaDown'),
          ...sessionAnswers,
        },
      },
    },
    '/api/replays/current': {
      delete: {
        operationId: 'stopReplay',
        summary: 'Stop the running replay',
        security: SESSION_ONLY,
        responses: { '200': json('Stopped.'), '409': errorResponse('No replay is running.'), ...sessionAnswers },
      },
    },
    '/api/healthz': {
      get: {
        operationId: 'health',
        summary: 'Whether the console reads Kafka',
        security: OPEN,
        responses: { '200': json('Kafka is read.'), '503': json('Kafka is not read; the body says why.') },
      },
    },
    '/api/groups': {
      get: {
        operationId: 'listGroups',
        summary: 'The groups the console has read',
        security: OPEN,
        responses: { '200': json('The groups.', { type: 'object', required: ['groups'], properties: { groups: { type: 'array' } } }) },
      },
    },
    '/api/groups/{id}': {
      get: {
        operationId: 'viewGroup',
        summary: 'One group as a watcher (or a member of a role) sees it',
        security: OPEN,
        parameters: [
          pathParameter('id', 'The group id.', 'openapi-walk'),
          { name: 'watcher', in: 'query', description: 'A sip:, sips: or tel: URI; not with role.', schema: { type: 'string' } },
          { name: 'role', in: 'query', description: 'A role of the group; not with watcher.', schema: { type: 'string' } },
        ],
        responses: {
          '200': json('The group’s view.'),
          '400': ref('responses', 'BadRequest'),
          '404': errorResponse('No such group.'),
          '503': ref('responses', 'KafkaDown'),
          '500': ref('responses', 'InternalError'),
        },
      },
    },
    '/api/locate/{identity}': {
      get: {
        operationId: 'locate',
        summary: 'What `presence locate` answers: the subscriber key, its owner member and presence',
        security: OPEN,
        parameters: [pathParameter('identity', 'An MSISDN, IMSI or SIP URI.', '+351910000077')],
        responses: {
          '200': json('Where the subscriber is kept and its presence.'),
          '400': ref('responses', 'BadRequest'),
          '503': ref('responses', 'KafkaDown'),
          '500': ref('responses', 'InternalError'),
        },
      },
    },
    [OPENAPI_PATH]: { get: openApiOperation },
  },
  components: {
    schemas: { Error: errorSchema },
    responses: {
      ...commonResponses,
      BadRequest: errorResponse('A parameter or body the console cannot use.'),
      NoSession: errorResponse('Not logged in: POST /api/session first.', {
        'WWW-Authenticate': { description: 'Bearer realm="presence-console", scope="console:manage".', schema: { type: 'string' } },
      }),
      OtherOrigin: errorResponse('The request came from another origin (Origin or Sec-Fetch-Site).'),
      ReadOnly: errorResponse('Management is not enabled (presence run console --manage), or the method is not one of this path’s.'),
      TooLarge: errorResponse('Request body over 16 KiB.'),
      NotJson: errorResponse('The body is not application/json.'),
      KafkaDown: errorResponse('Kafka is not read right now.'),
    },
    securitySchemes: {
      [BEARER]: bearerScheme,
      [SESSION]: {
        type: 'apiKey',
        in: 'cookie',
        name: SESSION_COOKIE,
        description: 'The session cookie POST /api/session sets (HttpOnly, SameSite=Strict, 1 h).',
      },
    },
  },
};
