import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import * as z from '../../functions/zod.js';
import { badRequest, conflict, ProtocolError, tooManyRequests } from '../../functions/errors.js';
import { errorResponse } from '../../functions/http/lambda.js';
import { routes, type Route } from '../../functions/routes.js';
import { buildDocument, inScope, OPENAPI_FILE, renderDocument } from '../../scripts/openapi/document.js';
import { OPERATIONS, SCHEMAS, type SchemaName } from '../../scripts/openapi/operations.js';
import { b2cErrorSchema, oauthErrorSchema } from '../../scripts/openapi/responses.js';

type Json = Record<string, unknown>;
interface MediaType {
  schema: { $ref: string };
  example: unknown;
}
type Content = { content?: Record<string, MediaType> };

const committed = readFileSync(OPENAPI_FILE, 'utf8');
const doc = JSON.parse(committed) as {
  paths: Record<string, Record<string, { parameters?: Json[]; requestBody?: Content; responses: Json }>>;
  components: { schemas: Json; responses: Record<string, Content> };
};

const schemaOf = (ref: string) => SCHEMAS[ref.replace('#/components/schemas/', '') as SchemaName];

function expectValid(schema: z.core.$ZodType, value: unknown, what: string): void {
  const parsed = z.safeParse(schema, value);
  expect(parsed.success ? [] : parsed.error.issues, what).toEqual([]);
}

describe('docs/openapi.json', () => {
  it('is what `npm run openapi` writes today (run it after changing a schema, a route or an example)', async () => {
    expect(committed).toBe(await renderDocument(buildDocument()));
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect((doc as unknown as Json).openapi).toBe('3.1.0');
  });

  it('has an operation for every method of /init-auth, /get-user and every /v1 route, and nothing of /oidc', () => {
    const wanted = routes.filter(inScope).flatMap((r) => r.methods.map((m) => `${m} ${r.path}`));
    expect(wanted.length).toBeGreaterThanOrEqual(17);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(wanted.sort());
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/oidc'))).toEqual([]);
  });

  it('answers every operation with the shared host, limit and outage errors, and a 401 for a missing secret', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(
          expect.arrayContaining(['400', '401', '404', '421', '429', '503']),
        );
        const b2c = path === '/init-auth' || path === '/get-user';
        expect((op.responses['401'] as { $ref: string }).$ref).toBe(
          `#/components/responses/${b2c ? 'B2C' : ''}Unauthorized`,
        );
      }
    }
  });

  it('holds only examples their own zod schema accepts: bodies, responses, path parameters and errors', () => {
    let checked = 0;
    const media = (c: Content | undefined, what: string) => {
      for (const m of Object.values(c?.content ?? {})) {
        expectValid(schemaOf(m.schema.$ref), m.example, what);
        checked++;
      }
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const key = `${method.toUpperCase()} ${path}`;
        media(op.requestBody, `${key} request body`);
        for (const [status, response] of Object.entries(op.responses))
          media(response as Content, `${key} ${status}`);
        for (const p of op.parameters ?? []) {
          if (p.example === undefined) continue;
          const owner = p.in === 'query' ? OPERATIONS[key]!.query : OPERATIONS[key]!.path;
          const shape = owner!.schema._zod.def.shape as Record<string, z.core.$ZodType>;
          expectValid(shape[p.name as string]!, p.example, `${key} ${String(p.in)} ${String(p.name)}`);
          checked++;
        }
      }
    }
    for (const [name, response] of Object.entries(doc.components.responses)) media(response, name);
    expect(checked).toBeGreaterThan(50);
  });

  it('fails, naming the route, when a /v1 route has no registry entry (a new route cannot be forgotten)', () => {
    const added: Route = {
      id: 'Webhooks',
      methods: ['GET'],
      path: '/v1/webhooks',
      handler: 'webhooks',
      tenant: true,
      permissions: ['table:read'],
      purpose: 'test',
    };
    expect(() => buildDocument([...routes, added])).toThrow(
      'GET /v1/webhooks is in functions/routes.ts but has no entry in scripts/openapi/operations.ts',
    );
    // A new method on a documented path is a new operation too.
    const withDelete = routes.map((r) =>
      r.path === '/v1/clients' ? { ...r, methods: [...r.methods, 'DELETE' as const] } : r,
    );
    expect(() => buildDocument(withDelete)).toThrow('DELETE /v1/clients');
  });

  it('fails when the registry describes a route that is gone, or other path parameters than the route has', () => {
    expect(() => buildDocument(routes.filter((r) => r.path !== '/get-user'))).toThrow(
      'describes POST /get-user, which functions/routes.ts does not have',
    );
    const renamed = routes.map((r) =>
      r.path === '/v1/actions/{action}' ? { ...r, path: '/v1/actions/{actionCode}' } : r,
    );
    const ops = Object.fromEntries(
      Object.entries(OPERATIONS).map(([k, v]) => [
        k.replace('/v1/actions/{action}', '/v1/actions/{actionCode}'),
        v,
      ]),
    );
    expect(() => buildDocument(renamed, ops)).toThrow(
      '/v1/actions/{actionCode} has the path parameters {actionCode}',
    );
  });
});

describe('the error schemas', () => {
  // Rendered by the real renderer: a field added to the error body and not documented fails here.
  const cases = [
    badRequest('userId: userId is required', 'invalid_request', {
      issues: [{ path: 'userId', message: 'x' }],
    }),
    conflict('the email "a@example.com" is already used by another user', 'login_taken', { field: 'email' }),
    tooManyRequests(5, 'too many failed authentications: try again later'),
    new ProtocolError(503, 'temporarily_unavailable', 'try again'),
  ];
  for (const [style, schema] of [
    ['json', oauthErrorSchema],
    ['b2c', b2cErrorSchema],
  ] as const) {
    it(`describe every field of a ${style} error body`, () => {
      for (const err of cases) {
        const body = JSON.parse(errorResponse(err, style, 'req-1').body!) as Json;
        expectValid(schema, body, `${style} ${err.status}`);
        expect(Object.keys(body).filter((k) => !(k in schema.shape))).toEqual([]);
      }
    });
  }
});
