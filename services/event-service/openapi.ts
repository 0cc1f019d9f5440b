// The event service's HTTP API (eventsHttpApi.ts) as an OpenAPI 3.1 document,
// served at GET /openapi.json; openapi.test.ts walks it against the server.
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
  type Parameter,
  type JsonSchema,
  type Reference,
} from '../../protocols/http/openApi.ts';
import { SERVICE_EVENT_TYPES } from '../../schemas/serviceEventCatalogue.ts';

const scope = (s: string) => [{ [BEARER]: [s] }];
const json = (schema: JsonSchema | Reference) => ({ 'application/json': { schema } });

const guarded = {
  '401': ref('responses', 'Unauthorized'),
  '403': ref('responses', 'Forbidden'),
  '500': ref('responses', 'InternalError'),
  '503': ref('responses', 'Unavailable'),
};

const query = (name: string, description: string, schema: JsonSchema, example?: unknown): Parameter => ({
  name,
  in: 'query',
  description,
  schema,
  ...(example !== undefined ? { example } : {}),
});
const serviceQuery = query('service', 'The calling service, only when the API runs without bearer tokens (a token names it otherwise).', { type: 'string' });

const TYPES = SERVICE_EVENT_TYPES.map((t) => t.type);

export const eventServiceOpenApi: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Presence gateway event service',
    version: '1',
    description:
      'Event notification for services (issue 17): services register what they publish and subscribe to, and are told by webhook (signed, retried, ordered per subscriber), server-sent events or pull; the event log records who was told what and when.',
  },
  paths: {
    [OPENAPI_PATH]: { get: openApiOperation },
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'The database answers',
        security: [],
        responses: { '200': { description: 'Up.', content: json({ type: 'object' }) }, '503': ref('responses', 'Unavailable') },
      },
    },
    '/catalogue': {
      get: {
        operationId: 'catalogue',
        summary: 'The event types and the payload each carries',
        security: scope('events:read'),
        responses: { '200': { description: 'The catalogue.', content: json({ type: 'object', properties: { types: { type: 'array' } } }) }, ...guarded },
      },
    },
    '/services': {
      get: {
        operationId: 'listServices',
        summary: 'Registered services',
        security: scope('events:register'),
        responses: {
          '200': {
            description: 'Registrations (no secrets).',
            content: json({ type: 'object', properties: { services: { type: 'array', items: ref('schemas', 'Registration') } } }),
          },
          ...guarded,
        },
      },
    },
    '/services/{name}': {
      parameters: [pathParameter('name', 'The service name (also its token client name).', 'crm')],
      get: {
        operationId: 'getService',
        summary: 'One registration',
        security: scope('events:register'),
        responses: {
          '200': { description: 'The registration.', content: json(ref('schemas', 'Registration')) },
          '404': ref('responses', 'NotFound'),
          ...guarded,
        },
      },
      put: {
        operationId: 'registerService',
        summary: 'Register or replace a service',
        security: scope('events:register'),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: ref('schemas', 'RegistrationRequest'),
              example: {
                subscriptions: [{ types: ['call.missed'], subscribers: 'all' }],
                delivery: { mode: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars' },
              },
            },
          },
        },
        responses: {
          '200': { description: 'Replaced.', content: json(ref('schemas', 'Registration')) },
          '201': { description: 'Registered.', content: json(ref('schemas', 'Registration')) },
          '400': ref('responses', 'BadRequest'),
          '413': ref('responses', 'TooLarge'),
          '415': ref('responses', 'NotJson'),
          ...guarded,
        },
      },
      delete: {
        operationId: 'removeService',
        summary: 'Remove a registration (its log rows stay)',
        security: scope('events:register'),
        responses: { '204': { description: 'Removed.' }, '404': ref('responses', 'NotFound'), ...guarded },
      },
    },
    '/events': {
      get: {
        operationId: 'pullEvents',
        summary: 'Pull the calling service’s events after a cursor',
        description:
          'Events after `since` (or after the cursor the server kept), oldest first. Asking from `since` acknowledges every event up to it: they are marked notified and the kept cursor moves there. Pass the answer’s `next` as the following `since`.',
        security: scope('events:read'),
        parameters: [
          query('since', 'Last cursor processed.', { type: 'integer', minimum: 0 }, 0),
          query('limit', 'Page size, 1–1000 (default 100).', { type: 'integer', minimum: 1, maximum: 1000 }, 10),
          query(
            'wait',
            'Long poll: with nothing to hand out, hold the answer up to this many seconds (0–30, default 0) and answer as soon as an event is logged for the service; an empty page when the time is up.',
            { type: 'integer', minimum: 0, maximum: 30 },
            0,
          ),
          serviceQuery,
        ],
        responses: {
          '200': {
            description: 'A page.',
            content: json({
              type: 'object',
              required: ['since', 'next', 'more', 'events'],
              properties: {
                since: { type: 'integer' },
                next: { type: 'integer' },
                more: { type: 'boolean' },
                events: { type: 'array', items: ref('schemas', 'Event') },
              },
            }),
          },
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          '409': ref('responses', 'WrongDelivery'),
          ...guarded,
        },
      },
      post: {
        operationId: 'publishEvent',
        summary: 'Publish an event of a type the calling service registered to publish',
        security: scope('events:publish'),
        parameters: [serviceQuery],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['type', 'subject', 'payload'],
                properties: {
                  type: { enum: TYPES },
                  subject: { type: 'string', description: 'MSISDN, IMSI, URI or subscriber key.' },
                  payload: { type: 'object', description: 'The fields of the type’s payload record (GET /catalogue; schemas/avro/ServiceEvent.avsc).' },
                  eventId: { type: 'string', description: 'The publisher’s id: a retry with the same id is one event.' },
                  time: { type: 'string', format: 'date-time' },
                },
              },
              example: { type: 'usage.gauge', subject: '+9997000000001', payload: { gauge: 'voice-minutes', used: 42, limit: 100, unit: 'min' } },
            },
          },
        },
        responses: {
          '202': { description: 'Written to the service-events topic.', content: json({ type: 'object', properties: { eventId: { type: 'string' } } }) },
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          '413': ref('responses', 'TooLarge'),
          '415': ref('responses', 'NotJson'),
          ...guarded,
        },
      },
    },
    '/events/stream': {
      get: {
        operationId: 'streamEvents',
        summary: 'Server-sent events for an sse-mode service',
        description:
          'text/event-stream: `id` is the event’s cursor, `event` its type, `data` the event JSON. Last-Event-ID (or ?since=) resumes; without either, from the kept cursor.',
        security: scope('events:read'),
        parameters: [query('since', 'Resume after this cursor.', { type: 'integer', minimum: 0 }), serviceQuery],
        responses: {
          '200': { description: 'The stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          '409': ref('responses', 'WrongDelivery'),
          ...guarded,
        },
      },
    },
    '/event-log': {
      get: {
        operationId: 'eventLog',
        summary: 'The event log, newest first, with each recipient’s delivery state and answer',
        security: scope('events:read'),
        parameters: [
          query('subscriber', 'Only events about this subscriber.', { type: 'string' }),
          query('service', 'Only events this service was to be told of.', { type: 'string' }),
          query('type', 'Only this type.', { enum: TYPES }),
          query('before', 'Events before this cursor (paging back).', { type: 'integer', minimum: 1 }),
          query('limit', '1–1000 (default 100).', { type: 'integer', minimum: 1, maximum: 1000 }),
        ],
        responses: {
          '200': { description: 'Events.', content: json({ type: 'object', properties: { events: { type: 'array', items: ref('schemas', 'LoggedEvent') } } }) },
          '400': ref('responses', 'BadRequest'),
          ...guarded,
        },
      },
    },
  },
  components: {
    securitySchemes: { [BEARER]: bearerScheme },
    responses: {
      ...commonResponses,
      BadRequest: errorResponse('The request is malformed; `field` names the part at fault.'),
      NotFound: errorResponse('No such service (or resource).'),
      WrongDelivery: errorResponse('The service is registered for another delivery mode.'),
      TooLarge: errorResponse('The body is over the limit.'),
      NotJson: errorResponse('The body is not application/json.'),
      Unavailable: errorResponse('The database or Kafka does not answer; retry.', { 'Retry-After': { description: 'Seconds.', schema: { type: 'string' } } }),
    },
    schemas: {
      Error: errorSchema,
      Subscription: {
        type: 'object',
        required: ['types'],
        properties: {
          types: { type: 'array', items: { enum: [...TYPES, '*'] }, minItems: 1 },
          subscribers: { oneOf: [{ const: 'all' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
          contactList: {
            type: 'object',
            description:
              "Instead of subscribers: the members of the owner's contact list in its active availability profile, as the list is when each event is logged.",
            required: ['owner', 'list'],
            properties: { owner: { type: 'string' }, list: { enum: ['watched', 'allowed', 'denied', 'consent'] } },
            additionalProperties: false,
          },
          where: { type: 'object', description: 'Payload fields that must equal these values.' },
        },
      },
      Delivery: {
        oneOf: [
          {
            type: 'object',
            required: ['mode', 'url', 'secret'],
            properties: { mode: { const: 'webhook' }, url: { type: 'string', format: 'uri' }, secret: { type: 'string', minLength: 16 } },
          },
          { type: 'object', required: ['mode'], properties: { mode: { enum: ['sse', 'pull'] } } },
        ],
      },
      RegistrationRequest: {
        type: 'object',
        required: ['delivery'],
        properties: {
          publishes: { type: 'array', items: { enum: TYPES } },
          subscriptions: { type: 'array', items: ref('schemas', 'Subscription') },
          delivery: ref('schemas', 'Delivery'),
        },
      },
      Registration: {
        type: 'object',
        required: ['name', 'publishes', 'subscriptions', 'delivery'],
        properties: {
          name: { type: 'string' },
          publishes: { type: 'array', items: { type: 'string' } },
          subscriptions: { type: 'array', items: ref('schemas', 'Subscription') },
          delivery: { type: 'object', description: 'mode, and url for webhooks (never the secret).' },
        },
      },
      Event: {
        type: 'object',
        required: ['cursor', 'eventId', 'type', 'subject', 'time', 'source', 'payload'],
        properties: {
          cursor: { type: 'integer' },
          eventId: { type: 'string' },
          type: { enum: TYPES },
          subject: { type: 'string' },
          time: { type: 'string', format: 'date-time' },
          source: { type: 'string' },
          payload: { type: 'object' },
        },
      },
      LoggedEvent: {
        allOf: [
          ref('schemas', 'Event'),
          {
            type: 'object',
            properties: {
              recipients: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    service: { type: 'string' },
                    delivery: { enum: ['webhook', 'sse', 'pull'] },
                    notified: { type: 'boolean' },
                    notifiedAt: { type: ['string', 'null'] },
                    attempts: { type: 'integer' },
                    answer: { type: ['object', 'null'], properties: { status: { type: ['integer', 'null'] }, body: { type: ['string', 'null'] } } },
                  },
                },
              },
            },
          },
        ],
      },
    },
  },
  security: [{ [BEARER]: [] }],
};
