// The group service's HTTP API (groupHttpApi.ts) as an OpenAPI 3.1 document,
// served at GET /openapi.json. groupHttpApi.test.ts walks it against the server,
// so a route or status added to one and not the other fails there.
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
  type Operation,
  type Response,
} from '../../protocols/http/openApi.ts';

const READ = [{ [BEARER]: ['groups:read'] }];
const MANAGE = [{ [BEARER]: ['groups:manage'] }];

const etagHeader = { ETag: { description: 'The group\'s version, "<n>"; send it back as If-Match.', schema: { type: 'string' } } };
const groupAnswer = (description: string, headers: Response['headers'] = etagHeader): Response => ({
  description,
  headers,
  content: { 'application/json': { schema: ref('schemas', 'Group') } },
});

/** What every operation behind a token may answer besides its own. */
const guarded = {
  '401': ref('responses', 'Unauthorized'),
  '403': ref('responses', 'Forbidden'),
  '500': ref('responses', 'InternalError'),
  '503': ref('responses', 'DatabaseDown'),
};
/** Changes: a body past the limit, a body not JSON, a version that moved on. */
const changeAnswers = {
  '400': ref('responses', 'BadRequest'),
  '412': ref('responses', 'VersionMismatch'),
  '413': ref('responses', 'TooLarge'),
  '415': ref('responses', 'NotJson'),
};

const jsonBody = (schema: string, required: boolean, example: unknown): NonNullable<Operation['requestBody']> => ({
  required,
  content: { 'application/json': { schema: ref('schemas', schema), example } },
});

export const groupServiceOpenApi: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Group service (Pm management interface)',
    version: '1',
    description:
      'Groups and their members, kept in PostgreSQL and published to Kafka. Changes accept If-Match: "<version>". ' +
      'Errors are JSON {error, field?}. Paths also answer 405 with Allow for a method they do not document, and 404 for any other path.',
  },
  paths: {
    '/groups': {
      get: {
        operationId: 'listGroups',
        summary: 'List groups by id, a page at a time',
        security: READ,
        parameters: [
          { name: 'limit', in: 'query', description: 'Page size, 1-1000 (default 100).', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          { name: 'after', in: 'query', description: 'The last group id of the previous page.', schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description: 'A page of groups; `next` names the following page when this one is full.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['groups'],
                  properties: { groups: { type: 'array', items: ref('schemas', 'Group') }, next: { type: 'string' } },
                },
              },
            },
          },
          '400': ref('responses', 'BadRequest'),
          ...guarded,
        },
      },
      post: {
        operationId: 'createGroup',
        summary: 'Create a group (with its first members)',
        security: MANAGE,
        requestBody: jsonBody('NewGroup', true, { id: 'openapi-walk', uri: 'sip:openapi-walk@groups.example.com', name: 'Walk' }),
        responses: {
          '201': groupAnswer('Created.', { ...etagHeader, Location: { description: "The new group's path.", schema: { type: 'string' } } }),
          '400': ref('responses', 'BadRequest'),
          '409': errorResponse('The id or the URI belongs to another group.'),
          '413': ref('responses', 'TooLarge'),
          '415': ref('responses', 'NotJson'),
          ...guarded,
        },
      },
    },
    '/groups/{id}': {
      parameters: [ref('parameters', 'GroupId')],
      get: {
        operationId: 'getGroup',
        summary: 'One group',
        security: READ,
        responses: { '200': groupAnswer('The group.'), '400': ref('responses', 'BadRequest'), '404': ref('responses', 'NotFound'), ...guarded },
      },
      patch: {
        operationId: 'patchGroup',
        summary: 'Change name, attributes (JSON merge: null removes) or adminPolicy',
        security: MANAGE,
        parameters: [ref('parameters', 'IfMatch')],
        requestBody: jsonBody('GroupPatch', true, { name: 'Walked' }),
        responses: { '200': groupAnswer('The changed group.'), '404': ref('responses', 'NotFound'), ...changeAnswers, ...guarded },
      },
      delete: {
        operationId: 'deleteGroup',
        summary: 'Delete a group',
        security: MANAGE,
        parameters: [ref('parameters', 'IfMatch')],
        responses: {
          '204': { description: 'Deleted.', headers: etagHeader },
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          '412': ref('responses', 'VersionMismatch'),
          ...guarded,
        },
      },
    },
    '/groups/{id}/members/{member}': {
      parameters: [ref('parameters', 'GroupId'), ref('parameters', 'Member')],
      get: {
        operationId: 'getMember',
        summary: 'One member of a group',
        security: READ,
        responses: {
          '200': { description: 'The member.', headers: etagHeader, content: { 'application/json': { schema: ref('schemas', 'Member') } } },
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          ...guarded,
        },
      },
      put: {
        operationId: 'putMember',
        summary: 'Add a member (201) or change its settings (200)',
        security: MANAGE,
        parameters: [ref('parameters', 'IfMatch')],
        requestBody: jsonBody('MemberSettings', false, { role: 'driver', share: true }),
        responses: {
          '200': groupAnswer('The member changed; the whole group.'),
          '201': groupAnswer('The member added; the whole group.', {
            ...etagHeader,
            Location: { description: "The member's path.", schema: { type: 'string' } },
          }),
          '404': ref('responses', 'NotFound'),
          ...changeAnswers,
          ...guarded,
        },
      },
      delete: {
        operationId: 'deleteMember',
        summary: 'Remove a member',
        security: MANAGE,
        parameters: [ref('parameters', 'IfMatch')],
        responses: {
          '200': groupAnswer('The group without the member.'),
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          '412': ref('responses', 'VersionMismatch'),
          ...guarded,
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'Database and outbox backlog; needs no token',
        security: [],
        responses: {
          '200': {
            description: 'The database answers.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['database', 'outboxBacklog'],
                  properties: { database: { const: 'up' }, outboxBacklog: { type: 'integer' } },
                },
              },
            },
          },
          '500': ref('responses', 'InternalError'),
          '503': ref('responses', 'DatabaseDown'),
        },
      },
    },
    [OPENAPI_PATH]: { get: openApiOperation },
  },
  components: {
    securitySchemes: { [BEARER]: bearerScheme },
    parameters: {
      GroupId: pathParameter('id', 'The group id.', 'openapi-walk'),
      Member: pathParameter('member', "The member's sip:/tel: URI or subscriber key, URL-encoded.", 'tel:+351910000001'),
      IfMatch: {
        name: 'If-Match',
        in: 'header',
        description: 'The version the change is based on, "<n>" (412 when the group moved on).',
        schema: { type: 'string' },
      },
    },
    responses: {
      ...commonResponses,
      BadRequest: errorResponse('Bad input; `field` names the part (body field, id, member, If-Match, limit).'),
      NotFound: errorResponse('No such group, or no such member in it.'),
      VersionMismatch: {
        description: "If-Match (or the body's version) is not the group's current version.",
        headers: etagHeader,
        content: {
          'application/json': {
            schema: { type: 'object', required: ['error', 'version'], properties: { error: { type: 'string' }, version: { type: 'integer' } } },
          },
        },
      },
      TooLarge: errorResponse('The request body, or the group it would make, is over the limit.'),
      NotJson: errorResponse('The body is not application/json (or +json).'),
      DatabaseDown: errorResponse('PostgreSQL does not answer; retry later.', { 'Retry-After': { description: 'Seconds.', schema: { type: 'string' } } }),
    },
    schemas: {
      Error: errorSchema,
      Member: {
        type: 'object',
        required: ['subscriber', 'uri', 'share', 'sharedParts', 'attributes'],
        properties: {
          subscriber: { type: 'string', description: 'The subscriber key (e.g. msisdn:+351…).' },
          uri: { type: 'string' },
          role: { type: ['string', 'null'] },
          displayName: { type: ['string', 'null'] },
          attributes: { type: 'object', additionalProperties: { type: 'string' } },
          share: { type: 'boolean', description: "false: the member's presence is not shared with the group." },
          sharedParts: { type: 'array', items: { enum: ['basic', 'network', 'call', 'location', 'activities', 'note'] }, description: 'Empty: all.' },
        },
      },
      MemberSettings: {
        type: 'object',
        properties: {
          role: { type: 'string' },
          displayName: { type: 'string' },
          attributes: { type: 'object', additionalProperties: { type: 'string' } },
          share: { type: 'boolean', default: true },
          sharedParts: { type: 'array', items: { type: 'string' } },
        },
      },
      Group: {
        type: 'object',
        required: ['groupId', 'version', 'uri', 'name', 'attributes', 'members', 'adminPolicy', 'updatedAt'],
        properties: {
          groupId: { type: 'string' },
          version: { type: 'integer' },
          uri: { type: 'string' },
          name: { type: 'string' },
          attributes: { type: 'object', additionalProperties: { type: 'string' } },
          members: { type: 'array', items: ref('schemas', 'Member') },
          adminPolicy: { enum: ['members-only', 'anyone'] },
          updatedAt: { type: 'integer', description: 'Milliseconds since the epoch.' },
        },
      },
      NewGroup: {
        type: 'object',
        required: ['uri', 'name'],
        properties: {
          id: { type: 'string', description: 'Chosen by the service (a UUID) when absent.' },
          uri: { type: 'string', description: 'The group URI, e.g. sip:friends@groups.example.com.' },
          name: { type: 'string' },
          attributes: { type: 'object', additionalProperties: { type: 'string' } },
          adminPolicy: { enum: ['members-only', 'anyone'], default: 'members-only' },
          members: {
            type: 'array',
            items: { allOf: [{ type: 'object', required: ['uri'], properties: { uri: { type: 'string' } } }, ref('schemas', 'MemberSettings')] },
          },
        },
      },
      GroupPatch: {
        type: 'object',
        minProperties: 1,
        properties: {
          name: { type: 'string' },
          attributes: { type: 'object', additionalProperties: { type: ['string', 'null'] }, description: 'Merged; null removes.' },
          adminPolicy: { enum: ['members-only', 'anyone'] },
          version: { type: 'integer', minimum: 1, description: 'As If-Match.' },
        },
      },
    },
  },
};
