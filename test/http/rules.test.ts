/**
 * Per-action rules over HTTP: saved and read back with `PUT/GET /v1/actions/{action}`, refused with a
 * 400 that names the rule and the problem, and deciding the outcome of an `/init-auth` flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

type Tenant = Awaited<ReturnType<TestServer['tenant']>>;

const REDIRECT = 'https://app.example.com/callback';

let server: TestServer;
let t: Tenant;

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  const res = await api('PATCH', `/v1/clients/${t.id}`, { redirect_uris: [REDIRECT] });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
});
afterAll(async () => {
  await server.stop();
});

/** A management call with Basic `secret:` and a JSON body. */
async function api(
  method: string,
  path: string,
  payload?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await http(`${t.origin}${path}`, {
    method,
    headers: {
      authorization: basic(t.secret),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

let n = 0;
const newAction = () => `pay-${++n}-${Date.now().toString(36)}`;

describe('PUT and GET /v1/actions/{action} with rules', () => {
  const rules = [
    {
      id: 'block-high-amount',
      name: 'High amount',
      description: 'Payments over 1000 are blocked',
      condition: { '>': [{ var: 'custom.amount' }, 1000] },
      outcome: 'BLOCK',
    },
    {
      id: 'challenge-new-device',
      condition: {
        and: [
          { in: ['PASSKEY', { var: 'user.methods' }] },
          { '!': { ip_in_cidr: [{ var: 'request.ip' }, ['10.0.0.0/8', '2001:db8::/32']] } },
        ],
      },
      outcome: 'CHALLENGE',
    },
  ];

  it('saves rules, allowEnrollment and maxAttempts and reads them back', async () => {
    const action = newAction();
    const put = await api('PUT', `/v1/actions/${action}`, {
      defaultOutcome: 'ALLOW',
      rules,
      allowEnrollment: false,
      maxAttempts: 3,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({
      action,
      defaultOutcome: 'ALLOW',
      rules,
      allowEnrollment: false,
      maxAttempts: 3,
    });

    const get = await api('GET', `/v1/actions/${action}`);
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({
      action,
      defaultOutcome: 'ALLOW',
      rules,
      allowEnrollment: false,
      maxAttempts: 3,
      configured: true,
    });
  });

  it('gives an unconfigured action the tenant default, no rules and the defaults', async () => {
    const get = await api('GET', `/v1/actions/${newAction()}`);
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({ rules: [], allowEnrollment: true, maxAttempts: 5, configured: false });
  });

  it('replaces the whole configuration on PUT: omitted fields return to their defaults', async () => {
    const action = newAction();
    expect(
      (await api('PUT', `/v1/actions/${action}`, { defaultOutcome: 'BLOCK', rules, maxAttempts: 2 })).status,
    ).toBe(200);
    expect((await api('PUT', `/v1/actions/${action}`, { defaultOutcome: 'CHALLENGE' })).status).toBe(200);
    const get = await api('GET', `/v1/actions/${action}`);
    expect(get.body).toMatchObject({
      defaultOutcome: 'CHALLENGE',
      rules: [],
      allowEnrollment: true,
      maxAttempts: 5,
    });
  });

  it('accepts the largest rule set (50 rules of nearly 4 KiB each) and stores it exactly', async () => {
    const values = Array.from({ length: 485 }, (_, i) => `v${String(i).padStart(4, '0')}`);
    const big = Array.from({ length: 50 }, (_, i) => ({
      id: `rule-${i}`,
      condition: { in: [{ var: 'custom.code' }, values] },
      outcome: 'CHALLENGE',
    }));
    expect(JSON.stringify(big[0]!.condition).length).toBeGreaterThan(3900);
    const action = newAction();
    const put = await api('PUT', `/v1/actions/${action}`, { defaultOutcome: 'ALLOW', rules: big });
    expect(put.status, JSON.stringify(put.body).slice(0, 500)).toBe(200);
    const get = await api('GET', `/v1/actions/${action}`);
    expect(get.body.rules).toEqual(big);
  });

  it.each<[string, unknown, RegExp[]]>([
    [
      'an unknown operator',
      [{ id: 'uses-map', condition: { map: [{ var: 'user.methods' }, { var: '' }] }, outcome: 'BLOCK' }],
      [/rule "uses-map"/, /unknown operator "map"/],
    ],
    [
      'a variable outside custom, user and request',
      [{ id: 'reads-env', condition: { '==': [{ var: 'env.secret' }, 'x'] }, outcome: 'BLOCK' }],
      [/rule "reads-env"/, /variable "env\.secret" must start with custom\., user\. or request\./],
    ],
    [
      'duplicate ids',
      [
        { id: 'same', condition: true, outcome: 'BLOCK' },
        { id: 'same', condition: false, outcome: 'ALLOW' },
      ],
      [/rules\.1\.id: rule id "same" is used more than once/],
    ],
    ['a bad outcome', [{ id: 'r', condition: true, outcome: 'DENY' }], [/rules\.0\.outcome/]],
  ])('refuses %s with a 400 that says what is wrong', async (_name, badRules, messages) => {
    const action = newAction();
    const res = await api('PUT', `/v1/actions/${action}`, { defaultOutcome: 'ALLOW', rules: badRules });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    for (const m of messages) expect(res.body.error_description).toMatch(m);
    expect(res.body.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]),
    );
    // Nothing was saved.
    expect((await api('GET', `/v1/actions/${action}`)).body.configured).toBe(false);
  });

  it('refuses maxAttempts out of range', async () => {
    const res = await api('PUT', `/v1/actions/${newAction()}`, { defaultOutcome: 'ALLOW', maxAttempts: 11 });
    expect(res.status).toBe(400);
    expect(res.body.error_description).toMatch(/maxAttempts/);
  });
});

/** init-auth → /oidc/auth → /oidc/token; the id token's claims and the idempotency key. */
async function flow(action: string, custom: Record<string, unknown>) {
  const userId = `user-${Math.random().toString(36).slice(2)}`;
  const init = await http(`${t.origin}/init-auth`, {
    method: 'POST',
    headers: { authorization: basic(t.secret), 'content-type': 'application/json' },
    body: JSON.stringify({ userId, action, custom }),
  });
  const started = (await init.json()) as { token: string; idempotencyKey: string };
  expect(init.status, JSON.stringify(started)).toBe(200);

  const query = new URLSearchParams({
    client_id: t.id,
    token: started.token,
    redirect_uri: REDIRECT,
    state: 's',
    scope: 'openid',
    response_type: 'code',
  });
  const auth = await http(`${t.origin}/oidc/auth?${query}`);
  expect(auth.status).toBe(302);
  const location = new URL(auth.headers.get('location')!);
  const code = location.searchParams.get('code');
  expect(code, location.searchParams.get('error_description') ?? '').toBeTruthy();

  const token = await http(`${t.origin}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: REDIRECT,
      client_id: t.id,
      client_secret: t.secret,
    }).toString(),
  });
  const tokens = (await token.json()) as { id_token: string };
  expect(token.status, JSON.stringify(tokens)).toBe(200);
  const claims = JSON.parse(
    Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString('utf8'),
  ) as Record<string, unknown>;
  return { userId, idempotencyKey: started.idempotencyKey, claims };
}

describe('rules decide the outcome of /oidc/auth', () => {
  const action = 'payment';

  beforeAll(async () => {
    const res = await api('PUT', `/v1/actions/${action}`, {
      defaultOutcome: 'ALLOW',
      rules: [
        { id: 'block-high-amount', condition: { '>': [{ var: 'custom.amount' }, 1000] }, outcome: 'BLOCK' },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('a matching rule blocks, and the outcome record names it', async () => {
    const { userId, idempotencyKey, claims } = await flow(action, { amount: 5000 });
    expect(claims).toMatchObject({
      sub: userId,
      action,
      action_state: 'BLOCK',
      idempotency_key: idempotencyKey,
    });
    const record = await api('GET', `/v1/users/${userId}/actions/${action}/${idempotencyKey}`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      state: 'BLOCK',
      decidedBy: 'rule:block-high-amount',
      custom: { amount: 5000 },
    });
  });

  it('no matching rule: the action default decides', async () => {
    const { userId, idempotencyKey, claims } = await flow(action, { amount: 10 });
    expect(claims).toMatchObject({ sub: userId, action, action_state: 'ALLOW' });
    const record = await api('GET', `/v1/users/${userId}/actions/${action}/${idempotencyKey}`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ state: 'ALLOW', decidedBy: 'action default' });
  });
});
