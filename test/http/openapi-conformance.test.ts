/**
 * docs/openapi.json against the real local server: the documented request examples are sent as
 * they stand, and every answer must have a status the operation documents and a body its schema
 * accepts, with no top-level field the schema does not name. A handler that starts answering
 * something the document does not say fails here.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from '../../functions/zod.js';
import { OPENAPI_FILE } from '../../scripts/openapi/document.js';
import { SCHEMAS, type SchemaName } from '../../scripts/openapi/operations.js';
import { basic, http, httpFromAnywhere, startTestServer, type TestServer } from '../support/server.js';

type Json = Record<string, unknown>;
interface Response {
  $ref?: string;
  content?: Record<string, { schema: { $ref: string }; example: unknown }>;
}
interface Op {
  requestBody?: Response;
  responses: Record<string, Response>;
}
const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
  paths: Record<string, Record<string, Op>>;
  components: { responses: Record<string, Response> };
};

let server: TestServer;
let t: Awaited<ReturnType<TestServer['tenant']>>;
/** `METHOD path` of every operation answered with a 2xx. */
const succeeded = new Set<string>();

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
});
afterAll(async () => {
  await server.stop();
});

const op = (method: string, path: string) => doc.paths[path]![method.toLowerCase()]!;
const exampleBody = (method: string, path: string) =>
  op(method, path).requestBody!.content!['application/json']!.example;

function conforms(response: Response, body: unknown, what: string): void {
  const resolved = response.$ref
    ? doc.components.responses[response.$ref.replace('#/components/responses/', '')]!
    : response;
  const media = resolved.content?.['application/json'];
  if (!media) {
    expect(body, `${what}: no body documented`).toBeUndefined();
    return;
  }
  const schema = SCHEMAS[media.schema.$ref.replace('#/components/schemas/', '') as SchemaName];
  const parsed = z.safeParse(schema, body);
  expect(parsed.success ? [] : parsed.error.issues, what).toEqual([]);
  const shape = (schema._zod.def as { shape?: Json }).shape;
  if (shape)
    expect(
      Object.keys(body as Json).filter((k) => !(k in shape)),
      `${what}: undocumented fields`,
    ).toEqual([]);
}

async function call(
  method: string,
  path: string,
  params: Record<string, string> = {},
  body?: unknown,
  opts: { auth?: boolean; contentType?: string } = {},
): Promise<{ status: number; json: Json }> {
  const [template, query] = path.split('?') as [string, string | undefined];
  const url =
    t.origin +
    template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]!)) +
    (query ? `?${query}` : '');
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.auth !== false) headers.authorization = basic(t.secret);
  const init = { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
  // Unauthenticated calls come from many source addresses: about the answer, not the failure limit.
  const res = await (opts.auth === false ? httpFromAnywhere(url, init) : http(url, init));
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Json) : undefined;
  const what = `${method} ${template} → ${res.status}`;
  const documented = op(method, template).responses;
  expect(Object.keys(documented), `${what} is not documented`).toContain(String(res.status));
  conforms(documented[String(res.status)]!, json, what);
  if (res.status < 300) succeeded.add(`${method} ${template}`);
  return { status: res.status, json: json ?? {} };
}

describe('docs/openapi.json against the local server', () => {
  it('every operation answers its documented examples as documented, in a whole federated flow', async () => {
    const patched = await call(
      'PATCH',
      '/v1/clients/{clientId}',
      { clientId: t.id },
      exampleBody('PATCH', '/v1/clients/{clientId}'),
    );
    expect(patched.status).toBe(200);
    const created = await call('POST', '/v1/clients', {}, exampleBody('POST', '/v1/clients'));
    expect(created.status).toBe(201);
    const clientId = { clientId: created.json.client_id as string };
    expect((await call('GET', '/v1/clients')).status).toBe(200);
    expect((await call('GET', '/v1/clients/{clientId}', clientId)).status).toBe(200);
    expect((await call('POST', '/v1/clients/{clientId}/secret', clientId)).status).toBe(200);

    const action = { action: 'signIn' };
    const putAction = exampleBody('PUT', '/v1/actions/{action}');
    expect((await call('PUT', '/v1/actions/{action}', action, putAction)).status).toBe(200);
    expect((await call('GET', '/v1/actions/{action}', action)).status).toBe(200);

    const started = await call('POST', '/init-auth', {}, exampleBody('POST', '/init-auth'));
    expect(started.status).toBe(200);
    // The example's amount meets the example's BLOCK rule: a code at once, and an outcome recorded.
    const redirectUri = (exampleBody('PATCH', '/v1/clients/{clientId}') as { redirect_uris: string[] })
      .redirect_uris[0]!;
    const auth = await http(
      `${t.issuer}/auth?${new URLSearchParams({ client_id: t.id, token: started.json.token as string, redirect_uri: redirectUri })}`,
    );
    expect(auth.status).toBe(302);
    const user = { userId: '123456' };
    const outcomePath = '/v1/users/{userId}/actions/{action}/{idempotencyKey}';
    const outcome = await call('GET', outcomePath, {
      ...user,
      ...action,
      idempotencyKey: started.json.idempotencyKey as string,
    });
    expect(outcome.status).toBe(200);

    const profile = exampleBody('PUT', '/v1/users/{userId}');
    expect((await call('PUT', '/v1/users/{userId}', user, profile)).status).toBe(201);
    expect((await call('PUT', '/v1/users/{userId}', user, profile)).status).toBe(200);
    const patch = exampleBody('PATCH', '/v1/users/{userId}');
    expect((await call('PATCH', '/v1/users/{userId}', user, patch)).status).toBe(200);
    expect((await call('GET', '/v1/users/{userId}', user)).status).toBe(200);
    expect((await call('POST', '/get-user', {}, exampleBody('POST', '/get-user'))).status).toBe(200);

    const authenticators = '/v1/users/{userId}/authenticators';
    const app = await call('POST', authenticators, user, exampleBody('POST', authenticators));
    expect(app.status).toBe(201);
    const email = await call('POST', authenticators, user, { type: 'EMAIL_OTP', email: 'ada@example.com' });
    expect(email.status).toBe(201);
    const authenticatorId = (app.json.authenticator as { id: string }).id;
    const one = `${authenticators}/{authenticatorId}`;
    expect((await call('DELETE', one, { ...user, authenticatorId })).status).toBe(204);

    const ended = await call('DELETE', '/v1/users/{userId}/sessions', user);
    expect(ended.status).toBe(200);
    expect((await call('DELETE', '/v1/users/{userId}', user)).status).toBe(204);
    expect((await call('DELETE', '/v1/clients/{clientId}', clientId)).status).toBe(204);

    const entra = exampleBody('PUT', '/v1/integrations/entra');
    expect((await call('PUT', '/v1/integrations/entra', {}, entra)).status).toBe(200);
    expect((await call('GET', '/v1/integrations/entra')).status).toBe(200);
    expect((await call('DELETE', '/v1/integrations/entra')).status).toBe(204);
    expect((await call('GET', '/v1/integrations/entra')).status).toBe(404);

    const provider = { id: 'contoso' };
    const providerPut = exampleBody('PUT', '/v1/identity-providers/{id}');
    expect((await call('PUT', '/v1/identity-providers/{id}', provider, providerPut)).status).toBe(201);
    expect((await call('PUT', '/v1/identity-providers/{id}', provider, providerPut)).status).toBe(200);
    expect((await call('GET', '/v1/identity-providers/{id}', provider)).status).toBe(200);
    expect((await call('GET', '/v1/identity-providers')).status).toBe(200);
    expect((await call('DELETE', '/v1/identity-providers/{id}', provider)).status).toBe(204);
    expect((await call('GET', '/v1/identity-providers/{id}', provider)).status).toBe(404);

    const scope = { scope: 'hr' };
    const scopePut = exampleBody('PUT', '/v1/scopes/{scope}');
    expect((await call('PUT', '/v1/scopes/{scope}', scope, scopePut)).status).toBe(201);
    expect((await call('PUT', '/v1/scopes/{scope}', scope, scopePut)).status).toBe(200);
    expect((await call('GET', '/v1/scopes/{scope}', scope)).status).toBe(200);
    expect((await call('GET', '/v1/scopes')).status).toBe(200);
    expect((await call('DELETE', '/v1/scopes/{scope}', scope)).status).toBe(204);
    expect((await call('GET', '/v1/scopes/{scope}', scope)).status).toBe(404);

    expect((await call('GET', '/v1/settings')).status).toBe(200);
    expect((await call('PATCH', '/v1/settings', {}, exampleBody('PATCH', '/v1/settings'))).status).toBe(200);

    // Everything above left audit events: a real page, checked against the schema, then the next.
    const page = await call('GET', '/v1/audit-events?limit=2');
    expect(page.status).toBe(200);
    expect((page.json.events as unknown[]).length).toBe(2);
    const next = await call('GET', `/v1/audit-events?limit=2&cursor=${page.json.next_cursor as string}`);
    expect(next.status).toBe(200);

    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect([...succeeded].sort()).toEqual(documented.sort());
  });

  it('every operation answers 401 without the secret, in its documented error shape', async () => {
    const params = {
      clientId: t.id,
      action: 'signIn',
      userId: 'u1',
      idempotencyKey: '8fdc705f-710c-4125-ae9b-604ab7f45d86',
      authenticatorId: 'a1',
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        const body = item[method]!.requestBody ? {} : undefined;
        const { status } = await call(method.toUpperCase(), path, params, body, { auth: false });
        expect(status, `${method} ${path}`).toBe(401);
      }
    }
  });

  it('documents the 400, 404, 409 and 415 these routes answer, with their bodies', async () => {
    expect((await call('POST', '/init-auth', {}, { action: 'signIn' })).status).toBe(400);
    expect((await call('POST', '/get-user', {}, { userId: 'u' }, { contentType: 'text/plain' })).status).toBe(
      415,
    );
    expect((await call('DELETE', '/v1/clients/{clientId}', { clientId: t.id })).status).toBe(400);
    const unknown = { clientId: '00000000-0000-4000-8000-000000000000' };
    expect((await call('GET', '/v1/clients/{clientId}', unknown)).status).toBe(404);
    expect(
      (await call('PUT', '/v1/users/{userId}', { userId: 'a' }, { email: 'x@example.com' })).status,
    ).toBe(201);
    const taken = await call('PUT', '/v1/users/{userId}', { userId: 'b' }, { email: 'x@example.com' });
    expect([taken.status, taken.json.error, taken.json.field]).toEqual([409, 'login_taken', 'email']);
    expect((await call('PATCH', '/v1/users/{userId}', { userId: 'nobody' }, {})).status).toBe(404);
  });
});
