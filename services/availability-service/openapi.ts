// The availability service's HTTP API (profilesHttpApi.ts) as an OpenAPI 3.1
// document, served at GET /openapi.json. profilesHttpApi.test.ts walks it against
// the server, so a route or status added to one and not the other fails there.
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
  type Response,
} from '../../protocols/http/openApi.ts';

const READ = [{ [BEARER]: ['profiles:read'] }];
const MANAGE = [{ [BEARER]: ['profiles:manage'] }];
const PUBLISH = [{ [BEARER]: ['messages:publish'] }];

const profilesAnswer = (description: string): Response => ({ description, content: { 'application/json': { schema: ref('schemas', 'SubscriberProfiles') } } });

const guarded = {
  '401': ref('responses', 'Unauthorized'),
  '403': ref('responses', 'Forbidden'),
  '500': ref('responses', 'InternalError'),
  '503': ref('responses', 'DatabaseDown'),
};

const consentResponses = {
  '200': {
    description: 'Stored and sent to the owning event manager.',
    content: { 'application/json': { schema: ref('schemas', 'Consent') } },
  },
  '400': ref('responses', 'BadRequest'),
  '413': ref('responses', 'TooLarge'),
  '415': ref('responses', 'NotJson'),
  '501': ref('responses', 'NoConsent'),
  ...guarded,
  '503': errorResponse(
    'The database does not answer; retry (the same answer again is harmless). Kafka down only delays the answer reaching the event manager: it waits in the rules outbox.',
    {
      'Retry-After': { description: 'Seconds.', schema: { type: 'string' } },
    },
  ),
};

const publishResponses = {
  '202': {
    description: 'Committed in a Kafka transaction on signaling-events: the owning event manager tells the subscriber’s watchers.',
    content: {
      'application/json': {
        schema: { type: 'object', required: ['subscriber', 'eventId'], properties: { subscriber: { type: 'string' }, eventId: { type: 'string' } } },
      },
    },
  },
  '400': ref('responses', 'BadRequest'),
  '413': ref('responses', 'TooLarge'),
  '415': ref('responses', 'NotJson'),
  '501': errorResponse('This service runs without message publishing (no Kafka configured for it).'),
  ...guarded,
  '503': errorResponse('Kafka does not answer; retry (a message with the same messageId is told once).', {
    'Retry-After': { description: 'Seconds.', schema: { type: 'string' } },
  }),
};

const countSchema = {
  type: 'object',
  required: ['new', 'old'],
  properties: {
    new: { type: 'integer', minimum: 0 },
    old: { type: 'integer', minimum: 0 },
    urgentNew: { type: 'integer', minimum: 0 },
    urgentOld: { type: 'integer', minimum: 0 },
  },
};

const EXAMPLE = {
  active: 'professional',
  profiles: [
    {
      name: 'professional',
      timeZone: 'Europe/Paris',
      defaultMode: 'available',
      modes: [
        {
          name: 'meeting',
          state: { kind: 'transfer', to: { terminal: 'mobile' } },
          appliesTo: { except: ['sip:boss@corp.example'] },
          rules: [{ every: 'week', days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '12:00' }],
        },
        { name: 'available', state: { kind: 'available' } },
      ],
      lists: { allowed: ['sip:boss@corp.example'], denied: [], consent: [], watched: [], others: 'consent' },
    },
  ],
};

const calendar = {
  type: 'object',
  required: ['every', 'from', 'to'],
  description: 'Local HH:MM times (24:00 allowed; `to` not after `from` runs past midnight). week: days; month: day 1-31 or "last"; year: month and day.',
  properties: {
    every: { enum: ['week', 'month', 'year'] },
    days: { type: 'array', items: { enum: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] } },
    day: { oneOf: [{ type: 'integer', minimum: 1, maximum: 31 }, { const: 'last' }] },
    month: { type: 'integer', minimum: 1, maximum: 12 },
    from: { type: 'string', pattern: '^([01][0-9]|2[0-4]):[0-5][0-9]$' },
    to: { type: 'string', pattern: '^([01][0-9]|2[0-4]):[0-5][0-9]$' },
  },
};
const contacts = { type: 'array', items: { type: 'string', description: 'sip:, sips:, tel: URI or subscriber key.' } };

export const availabilityServiceOpenApi: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Availability service (profiles, modes, calendar rules, contact lists)',
    version: '1',
    description:
      "A subscriber's availability profiles, kept in PostgreSQL and read by the event managers for each watcher's connectability " +
      '(subscriber/availability/README.md). Errors are JSON {error, field?}; 400 names the field. Paths also answer 405 with Allow for a method they do not document, and 404 for any other path.',
  },
  paths: {
    '/subscribers/{subscriber}/profiles': {
      parameters: [ref('parameters', 'Subscriber')],
      get: {
        operationId: 'getProfiles',
        summary: "The subscriber's profiles (without any: the earlier availability settings as a one-mode default profile)",
        security: READ,
        responses: { '200': profilesAnswer('The profiles.'), '400': ref('responses', 'BadRequest'), ...guarded },
      },
      put: {
        operationId: 'putProfiles',
        summary: "Replace the subscriber's profiles",
        security: MANAGE,
        requestBody: { required: true, content: { 'application/json': { schema: ref('schemas', 'Profiles'), example: EXAMPLE } } },
        responses: {
          '200': profilesAnswer('Stored.'),
          '400': ref('responses', 'BadRequest'),
          '413': ref('responses', 'TooLarge'),
          '415': ref('responses', 'NotJson'),
          ...guarded,
        },
      },
    },
    '/subscribers/{subscriber}/profiles/activation': {
      parameters: [ref('parameters', 'Subscriber')],
      post: {
        operationId: 'activateProfile',
        summary: 'Make a profile the active one; optionally set (or with null clear) its manual mode, which wins over the calendar rules',
        security: MANAGE,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['profile'],
                properties: { profile: { type: 'string' }, manualMode: { type: ['string', 'null'] } },
              },
              example: { profile: 'professional' },
            },
          },
        },
        responses: {
          '200': profilesAnswer('The profiles after the change.'),
          '400': ref('responses', 'BadRequest'),
          '404': errorResponse('The subscriber has no profiles to activate (set them first).'),
          '413': ref('responses', 'TooLarge'),
          '415': ref('responses', 'NotJson'),
          ...guarded,
        },
      },
    },
    '/subscribers/{subscriber}/watchers': {
      parameters: [ref('parameters', 'Subscriber')],
      get: {
        operationId: 'getWatchers',
        summary:
          "Who watches the subscriber (presence and dialog subscriptions), as the event manager that owns it holds them; status=pending: those awaiting the subscriber's consent (issue 16.4)",
        security: READ,
        parameters: [
          {
            name: 'status',
            in: 'query',
            required: false,
            description: 'pending or active; absent: both.',
            schema: { enum: ['pending', 'active'] },
            example: 'pending',
          },
        ],
        responses: {
          '200': {
            description: 'The watchers.',
            content: { 'application/json': { schema: ref('schemas', 'Watchers') } },
          },
          '400': ref('responses', 'BadRequest'),
          '501': ref('responses', 'NoConsent'),
          ...guarded,
          '503': errorResponse('The database, Kafka or the owning event manager does not answer; retry.', {
            'Retry-After': { description: 'Seconds.', schema: { type: 'string' } },
          }),
        },
      },
    },
    '/subscribers/{subscriber}/watchers/{watcher}/approve': {
      parameters: [ref('parameters', 'Subscriber'), ref('parameters', 'Watcher')],
      post: {
        operationId: 'approveWatcher',
        summary:
          "The subscriber lets the watcher see it: stored as the watcher's rule, and its pending subscriptions become active (a NOTIFY with the document) through the owning event manager",
        security: MANAGE,
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { decision: { enum: ['allow', 'allow-presence', 'allow-location'], description: 'What the watcher sees (default allow).' } },
              },
              example: { decision: 'allow' },
            },
          },
        },
        responses: consentResponses,
      },
    },
    '/subscribers/{subscriber}/watchers/{watcher}/deny': {
      parameters: [ref('parameters', 'Subscriber'), ref('parameters', 'Watcher')],
      post: {
        operationId: 'denyWatcher',
        summary: 'The subscriber refuses the watcher: stored as its rule (block, or polite-block), its pending subscriptions end (terminated;reason=rejected)',
        security: MANAGE,
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { polite: { type: 'boolean', description: 'true: the watcher is shown a closed presence instead (polite-block).' } },
              },
              example: { polite: false },
            },
          },
        },
        responses: consentResponses,
      },
    },
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'Whether the database answers',
        security: [],
        responses: {
          '200': {
            description:
              'The database answers; run as `presence run availability-service`, also the changes not yet relayed to Kafka and the relay’s counters.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['database'],
                  properties: {
                    database: { const: 'up' },
                    outboxBacklog: { type: 'integer', minimum: 0, description: 'Committed changes not yet on the availability-profiles topic' },
                    relay: {
                      description: 'The outbox relay’s counters, or "off" when this instance does not relay',
                      oneOf: [{ const: 'off' }, { type: 'object', additionalProperties: true }],
                    },
                  },
                },
              },
            },
          },
          '500': ref('responses', 'InternalError'),
          '503': ref('responses', 'DatabaseDown'),
        },
      },
    },
    '/subscribers/{subscriber}/message-summary': {
      parameters: [ref('parameters', 'Subscriber')],
      put: {
        operationId: 'putMessageSummary',
        summary:
          'A messaging system (voicemail platform) says what waits in the subscriber’s mailbox (RFC 3842 counts by message class); its Event: message-summary watchers are told when it changed',
        security: PUBLISH,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['messages'],
                properties: {
                  account: { type: 'string', description: 'Message-Account: the mailbox URI.' },
                  waiting: { type: 'boolean', description: 'Messages-Waiting (default: whether any class has new messages).' },
                  messages: {
                    type: 'object',
                    description: 'Counts by RFC 3458 class: voice-message, fax-message, pager-message, multimedia-message, text-message, none.',
                    additionalProperties: countSchema,
                  },
                },
              },
              example: { account: 'sip:+33600000001@vm.example.net', messages: { 'voice-message': { new: 2, old: 8, urgentNew: 0, urgentOld: 2 } } },
            },
          },
        },
        responses: publishResponses,
      },
    },
    '/subscribers/{subscriber}/messages': {
      parameters: [ref('parameters', 'Subscriber')],
      post: {
        operationId: 'postMessage',
        summary:
          'A new message for the subscriber (a voice mail, a fax …): each of its Event: message watchers gets a NOTIFY with the message kind as Content-Type, its origin and where to fetch it; held (bounded) while none is subscribed',
        security: PUBLISH,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['messageId', 'contentType', 'origin'],
                properties: {
                  messageId: { type: 'string', description: 'Unique per message: a retry with the same id is told once.' },
                  contentType: { type: 'string', description: 'The message kind, a media type (audio/wav, text/plain …).' },
                  origin: { type: 'string', description: 'Who sent it (sip:/tel: URI).' },
                  contact: { type: 'string', description: 'Where the message is fetched (URI).' },
                  context: { enum: ['voice-message', 'fax-message', 'pager-message', 'multimedia-message', 'text-message', 'none'] },
                  subject: { type: 'string' },
                },
              },
              example: {
                messageId: 'vm-4711',
                contentType: 'audio/wav',
                origin: 'tel:+441632960001',
                contact: 'https://vm.example.net/m/4711',
                context: 'voice-message',
              },
            },
          },
        },
        responses: publishResponses,
      },
    },
    [OPENAPI_PATH]: { get: openApiOperation },
  },
  components: {
    securitySchemes: { [BEARER]: bearerScheme },
    parameters: {
      Subscriber: pathParameter('subscriber', 'MSISDN (+E164), IMSI, sip:/tel: URI or subscriber key, URL-encoded.', 'tel:+33600000001'),
      Watcher: pathParameter('watcher', 'The watcher: sip:/sips:/tel: URI, or *@domain for every watcher of a domain, URL-encoded.', 'sip:bob@example.com'),
    },
    responses: {
      ...commonResponses,
      BadRequest: errorResponse('Bad input; `field` names the part (e.g. profiles[1].modes[0].rules[0].from, subscriber, profile).'),
      TooLarge: errorResponse('The request body is over the limit.'),
      NotJson: errorResponse('The body is not application/json (or +json).'),
      NoConsent: errorResponse('This service runs without watcher consent (no Kafka configured for it).'),
      DatabaseDown: errorResponse('The database does not answer; retry.', { 'Retry-After': { description: 'Seconds.', schema: { type: 'string' } } }),
    },
    schemas: {
      Error: errorSchema,
      Profiles: {
        type: 'object',
        required: ['active', 'profiles'],
        properties: {
          active: { type: 'string' },
          profiles: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['name', 'timeZone', 'modes', 'defaultMode'],
              properties: {
                name: { type: 'string' },
                timeZone: { type: 'string', description: 'IANA zone, e.g. Europe/Paris.' },
                defaultMode: { type: 'string' },
                manualMode: { type: 'string' },
                modes: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    required: ['name', 'state'],
                    properties: {
                      name: { type: 'string' },
                      state: {
                        type: 'object',
                        required: ['kind'],
                        properties: {
                          kind: { enum: ['available', 'not-available', 'transfer', 'unknown', 'hidden'] },
                          to: {
                            oneOf: [
                              { type: 'object', required: ['number'], properties: { number: { type: 'string' } } },
                              {
                                type: 'object',
                                required: ['terminal'],
                                properties: { terminal: { enum: ['fixed', 'mobile', 'voip', 'sms', 'mms', 'email'] } },
                              },
                            ],
                          },
                        },
                      },
                      notification: { enum: ['ring', 'vibrate', 'silent', 'visual'] },
                      appliesTo: {
                        oneOf: [
                          { type: 'object', required: ['only'], properties: { only: contacts } },
                          { type: 'object', required: ['except'], properties: { except: contacts } },
                        ],
                      },
                      rules: { type: 'array', items: calendar },
                    },
                  },
                },
                rules: {
                  type: 'array',
                  items: { type: 'object', required: ['mode', 'calendar'], properties: { mode: { type: 'string' }, calendar } },
                },
                lists: {
                  type: 'object',
                  properties: { allowed: contacts, denied: contacts, consent: contacts, watched: contacts, others: { enum: ['allowed', 'denied', 'consent'] } },
                },
              },
            },
          },
        },
      },
      Watchers: {
        type: 'object',
        required: ['subscriber', 'watchers'],
        properties: {
          subscriber: { type: 'string' },
          watchers: {
            type: 'array',
            items: {
              type: 'object',
              required: ['watcher', 'event', 'state', 'decision', 'expiresAt'],
              properties: {
                watcher: { type: 'string' },
                event: { enum: ['presence', 'dialog'] },
                state: { enum: ['pending', 'active'] },
                decision: { type: 'string', description: 'The rule the subscription was judged by (confirm: awaiting consent).' },
                expiresAt: { type: 'string', format: 'date-time' },
              },
            },
          },
        },
      },
      Consent: {
        type: 'object',
        required: ['subscriber', 'watcher', 'decision', 'consentId'],
        properties: {
          subscriber: { type: 'string' },
          watcher: { type: 'string', description: 'As the rules compare it (host lower-cased, parameters dropped).' },
          decision: { enum: ['allow', 'allow-presence', 'allow-location', 'block', 'polite-block'] },
          consentId: { type: 'string' },
        },
      },
      SubscriberProfiles: {
        allOf: [
          { type: 'object', required: ['subscriber'], properties: { subscriber: { type: 'string', description: 'The subscriber key.' } } },
          ref('schemas', 'Profiles'),
        ],
      },
    },
  },
};
