/**
 * The hostile corpus: every route of the route table, every method, sent what an attacker's
 * script sends — malformed bodies, bodies over the limit, very long path parameters and query
 * strings, a thousand repetitions of one parameter, duplicated parameters, and unicode-laden input
 * (RTL marks, NUL, lone surrogates as %ED%A0%80, emoji, overlong UTF-8) — with and without the
 * tenant's valid credentials. No answer may be a 5xx, and no answer may show a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type Method } from '../../functions/routes.js';
import { MAX_BODY_BYTES } from '../../functions/http/body.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import type { TestTenant } from '../support/flow.js';

let server: TestServer;
let t: TestTenant;
beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
});
afterAll(async () => {
  await server.stop();
});

/** Path parameter values, already percent-encoded as they travel in the request line. */
const HOSTILE_SEGMENTS = [
  'c'.repeat(1300),
  '%ED%A0%80', // a lone surrogate (U+D800) encoded as UTF-8, which UTF-8 forbids
  '%00',
  '%E2%80%8F%E2%80%AE%F0%9F%98%80', // RLM, RTL override, emoji
  '%C0%AF%C0%AE%C0%AE', // overlong "/" and "."
  '%zz', // not a percent escape at all
];
const PLAIN_SEGMENT = 'x1';

const UNICODE_QUERY =
  'client_id=%E2%80%AE%00&redirect_uri=https%3A%2F%2Fa%ED%A0%80.example%2F&scope=openid%20%F0%9F%98%80' +
  '&prompt=%C0%AF&response_type=code&state=%E2%80%8F&claims=%7B%22id_token%22%3A%7B%22email%22%3Anull%7D%7D' +
  '&token=%ED%A0%80&grant_type=%00&user_code=%F0%9F%98%80&login_hint=%E2%80%AE';
const REPEATED = 'client_id=x&'.repeat(1000) + 'scope=openid';
const DUPLICATED =
  'client_id=a&client_id=b&grant_type=authorization_code&grant_type=refresh_token&code=1&code=2' +
  '&redirect_uri=https%3A%2F%2Fa.example%2F&redirect_uri=https%3A%2F%2Fb.example%2F&prompt=none&prompt=login';
const UNICODE_JSON = JSON.stringify({
  userId: '\u202e\u0000😀\ud800',
  action: 'sign\u200fIn',
  redirectUri: 'https://app.example.com/\ud800',
  email: 'a\u0000@example.com',
  client_name: '\u202eevil',
  redirect_uris: ['https://a.example/\u0000', 'http://\ud800/'],
  defaultOutcome: 'ALLOW\u0000',
  custom: { '\u0000': '\ud800', __proto__: { x: 1 } },
});

interface Probe {
  name: string;
  path: string;
  query?: string;
  body?: string;
  contentType?: string;
  cookie?: string;
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, value);
}

/** The probes for one route and method. */
function probes(path: string, method: Method): Probe[] {
  const hasParams = path.includes('{');
  const plain = fill(path, PLAIN_SEGMENT);
  const list: Probe[] = hasParams
    ? HOSTILE_SEGMENTS.map((s) => ({ name: `path param ${s.slice(0, 20)}`, path: fill(path, s) }))
    : [];
  list.push(
    { name: '1000 repeated parameters', path: plain, query: REPEATED },
    { name: 'duplicated parameters', path: plain, query: DUPLICATED },
    {
      name: 'unicode-laden query and cookies',
      path: plain,
      query: UNICODE_QUERY,
      cookie: 'sid=%ED%A0%80; __Host-sid=%zz; binding=%E2%80%AE; ib=' + 'x'.repeat(3000),
    },
    { name: 'very long query string', path: plain, query: `state=${'x'.repeat(12_000)}` },
  );
  if (method === 'GET' || method === 'DELETE') return list;
  list.push(
    { name: 'malformed JSON', path: plain, body: '{"userId": "\u0000', contentType: JSON_TYPE },
    { name: 'malformed form', path: plain, body: 'a=%zz&=&&b=%ED%A0%80&%=%', contentType: FORM },
    {
      name: 'oversized JSON',
      path: plain,
      body: JSON.stringify({ userId: 'x'.repeat(MAX_BODY_BYTES + 10) }),
      contentType: JSON_TYPE,
    },
    {
      name: 'oversized form',
      path: plain,
      body: `code=${'x'.repeat(MAX_BODY_BYTES + 10)}`,
      contentType: FORM,
    },
    { name: '1000 repeated form parameters', path: plain, body: REPEATED, contentType: FORM },
    { name: 'duplicated form parameters', path: plain, body: DUPLICATED, contentType: FORM },
    { name: 'unicode-laden form', path: plain, body: UNICODE_QUERY, contentType: FORM },
    { name: 'unicode-laden JSON', path: plain, body: UNICODE_JSON, contentType: JSON_TYPE },
    {
      name: 'JSON sent as text/plain',
      path: plain,
      body: UNICODE_JSON,
      contentType: 'text/plain;charset=utf-16',
    },
  );
  return list;
}

/**
 * Cases that belong to another item of issue 9 and are fixed on another branch: each is excluded
 * here by name, and re-enabled once that branch is merged.
 */
const KNOWN_ELSEWHERE: { route: string; method: Method; probe: RegExp; item: string }[] = [
  // Issue 9 item 8: a client id over DynamoDB's key size answers 500 on DELETE (404 like GET).
  { route: '/v1/clients/{clientId}', method: 'DELETE', probe: /^path param c{20}/, item: '8' },
];

/** `at fn (/path/file.ts:1:2)` or `at /path/file.js:1:2`: a stack frame that leaked into an answer. */
const STACK_FRAME = /\bat\s+(?:\S+\s+\()?(?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^\s)]*:\d+/;

interface Case {
  route: string;
  method: Method;
  probe: Probe;
  auth: boolean;
}

function cases(): Case[] {
  const all: Case[] = [];
  for (const route of routes)
    for (const method of route.methods)
      for (const probe of probes(route.path, method)) {
        if (
          KNOWN_ELSEWHERE.some(
            (k) => k.route === route.path && k.method === method && k.probe.test(probe.name),
          )
        )
          continue;
        // Without credentials only the probes that reach a parser before authentication matter.
        for (const auth of [true, false])
          if (auth || !probe.name.startsWith('path param'))
            all.push({ route: route.path, method, probe, auth });
      }
  return all;
}

async function send(c: Case): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (c.auth) headers.authorization = basic(t.id, t.secret);
  if (c.probe.contentType) headers['content-type'] = c.probe.contentType;
  if (c.probe.cookie) headers.cookie = c.probe.cookie;
  const url = `${t.origin}${c.probe.path}${c.probe.query ? `?${c.probe.query}` : ''}`;
  const res = await http(url, {
    method: c.method,
    headers,
    ...(c.probe.body !== undefined ? { body: c.probe.body } : {}),
  });
  return { status: res.status, text: await res.text() };
}

describe('the hostile corpus on every route', () => {
  it('answers every malformed, oversized, duplicated and unicode-laden request without a 5xx or a stack trace', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(300);
    expect(all.length).toBeLessThan(1000);
    const failures: string[] = [];
    // A few at a time: the point is every route and every probe, not load.
    for (let i = 0; i < all.length; i += 12) {
      const batch = all.slice(i, i + 12);
      const answers = await Promise.all(batch.map(send));
      answers.forEach((a, j) => {
        const c = batch[j]!;
        const label = `${c.method} ${c.route} [${c.probe.name}]${c.auth ? ' with credentials' : ''}`;
        if (a.status >= 500) failures.push(`${label}: ${a.status} ${a.text.slice(0, 200)}`);
        if (STACK_FRAME.test(a.text)) failures.push(`${label}: stack trace in the body`);
      });
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
