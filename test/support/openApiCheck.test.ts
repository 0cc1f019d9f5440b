// The checker must catch what it claims to, or the APIs' document tests pass vacuously.
import { describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../protocols/http/openApi.ts';
import { openApiProblems } from './openApiCheck.ts';

const valid = (): OpenApiDocument => ({
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: {
    '/things/{id}': {
      get: {
        operationId: 'getThing',
        summary: 's',
        security: [{ bearerToken: ['things:read'] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'ok' }, '404': { $ref: '#/components/responses/NotFound' } },
      },
    },
  },
  components: { responses: { NotFound: { description: 'none' } }, securitySchemes: { bearerToken: { type: 'http', scheme: 'bearer' } } },
});

describe('openApiProblems', () => {
  it('passes a valid document', () => {
    expect(openApiProblems(valid())).toEqual([]);
  });

  it('names each kind of fault', () => {
    const cases: Array<[string, (d: OpenApiDocument) => void, RegExp]> = [
      ['version', (d) => (d.openapi = '3.0.3'), /openapi must be "3\.1\.x"/],
      ['info', (d) => (d.info = { title: 't' } as OpenApiDocument['info']), /info needs a title and a version/],
      ['no responses', (d) => (d.paths['/things/{id}']!.get!.responses = {}), /no responses/],
      ['bad status', (d) => (d.paths['/things/{id}']!.get!.responses['2000'] = { description: 'x' }), /2000 is not a status code/],
      ['no description', (d) => (d.paths['/things/{id}']!.get!.responses['200'] = {} as { description: string }), /needs a description/],
      ['dangling $ref', (d) => (d.paths['/things/{id}']!.get!.responses['404'] = { $ref: '#/components/responses/Gone' }), /does not resolve/],
      ['undeclared path parameter', (d) => (d.paths['/things/{id}']!.get!.parameters = []), /\{id\} is not declared/],
      ['optional path parameter', (d) => (d.paths['/things/{id}']!.get!.parameters = [{ name: 'id', in: 'path', schema: {} }]), /must be required/],
      ['unknown scheme', (d) => (d.paths['/things/{id}']!.get!.security = [{ apiKey: [] }]), /apiKey is not declared/],
      ['duplicate operationId', (d) => (d.paths['/other'] = { get: { ...d.paths['/things/{id}']!.get!, parameters: [] } }), /used twice/],
    ];
    for (const [what, breakIt, expected] of cases) {
      const d = valid();
      breakIt(d);
      expect(openApiProblems(d).join('\n'), what).toMatch(expected);
    }
  });
});
