// The locator's HTTP API (httpApi.ts) as an OpenAPI 3.1 document, served at
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
} from '../protocols/http/openApi.ts';
import { requesterParameter } from '../protocols/http/queryRequester.ts';

export const locatorOpenApi: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Locator (coordinator)',
    version: '1',
    description:
      'Which event manager owns a subscriber now, and its presence: what `presence locate` prints. ' +
      'Errors are JSON {error}. Every path answers 405 to a method other than GET, and any other path is 404.',
  },
  paths: {
    '/locate/{identity}': {
      get: {
        operationId: 'locate',
        summary: 'Key, partition, owning member and presence of a subscriber',
        security: [{ [BEARER]: ['locate'] }],
        description:
          "The presence's connectability is the requester's (issue 16.3), from the owner's store: a token's user is the requester; " +
          'a service client may name one with `requester`; none named, or the presence read from the topic: anonymous. ' +
          "A user's token gets that user's view, decided by the owner: 403 when the presentity blocked it, 503 when the owner does not answer " +
          '(the topic knows no watcher rules).',
        parameters: [
          pathParameter('identity', 'An MSISDN (+E164), an IMSI, a sip:/tel: URI or a subscriber key, URL-encoded.', '+351910000077'),
          requesterParameter,
        ],
        responses: {
          '200': { description: 'Where the subscriber is.', content: { 'application/json': { schema: ref('schemas', 'Location') } } },
          '400': errorResponse('The identity is none of the accepted forms, or the requester is not a URI of a user.'),
          '401': ref('responses', 'Unauthorized'),
          '403': ref('responses', 'Forbidden'),
          '500': ref('responses', 'InternalError'),
          '503': errorResponse(
            "Kafka (or the member reports) does not answer, the message naming the brokers; or, for a user's token, the owning member does not answer.",
          ),
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'Whether Kafka answers; needs no token',
        security: [],
        responses: {
          '200': { description: 'Kafka answers.', content: { 'application/json': { schema: ref('schemas', 'Health') } } },
          '500': ref('responses', 'InternalError'),
          '503': { description: 'Kafka does not answer.', content: { 'application/json': { schema: ref('schemas', 'Health') } } },
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
      Health: { type: 'object', required: ['kafka', 'brokers'], properties: { kafka: { enum: ['up', 'down'] }, brokers: { type: 'string' } } },
      Location: {
        type: 'object',
        required: ['identity', 'key', 'partition', 'owner', 'presence', 'presenceFrom', 'requester'],
        properties: {
          identity: { type: 'string' },
          key: { type: 'string', description: 'The subscriber key, e.g. msisdn:+351910000077.' },
          partition: { type: 'integer' },
          owner: {
            type: ['object', 'null'],
            description: 'The owning event manager from the member reports (id, host, pid, SIP contact, HTTP url, report age); null when none reports it.',
          },
          presence: { type: ['object', 'null'], description: 'The current presence record; null when none is known.' },
          presenceFrom: { enum: ['owner', 'topic'], description: "The owner's store, or a scan of the current-presence topic." },
          requester: {
            type: ['string', 'null'],
            description: "Whose connectability the presence carries; null: anonymous (what a requester in none of the subscriber's lists gets).",
          },
        },
      },
    },
  },
};
