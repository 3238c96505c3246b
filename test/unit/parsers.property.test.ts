/**
 * Property-based tests (fast-check) of the parsers an attacker reaches first, before any
 * authentication: host resolution, Basic credentials, form and JSON bodies, redirect URI
 * validation, JSON Logic rules, and the `claims` and `prompt` authorization parameters. Whatever
 * the input, each one either returns a clean result or throws a 4xx error of the protocol
 * (`ProtocolError`, or the `RedirectError` the authorization endpoint sends back to the client):
 * never a TypeError, a RangeError or anything else the edge would have to answer with a 500.
 *
 * The seed is fixed so a failure reproduces, and the runs are bounded so the file stays fast.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { checkCondition, MAX_CONDITION_DEPTH } from '../../functions/actions/condition.js';
import { evaluateRules, ruleFacts, rulesSchema, type Rule } from '../../functions/actions/rules.js';
import { redirectUriSchema } from '../../functions/clients/client-uris.js';
import { readConfig } from '../../functions/config.js';
import { sha256 } from '../../functions/crypto/secrets.js';
import { ProtocolError } from '../../functions/errors.js';
import { basicCredentials, parseForm, parseJson, parseParams } from '../../functions/http/body.js';
import { clientCredentials } from '../../functions/http/client-auth.js';
import type { TenantContext } from '../../functions/http/handler.js';
import type { HttpRequest } from '../../functions/http/request.js';
import { checkTenantSecret } from '../../functions/http/tenant-auth.js';
import { requestedClaims } from '../../functions/oidc/claims-request.js';
import { RedirectError } from '../../functions/oidc/authorize-errors.js';
import { checkClaims, checkPrompt } from '../../functions/oidc/login-request.js';
import { validate } from '../../functions/validate.js';
import { resolveHost } from '../../functions/tenants/host.js';

const SETTINGS = { seed: 20_260_911, numRuns: 300 } as const;

/** The property: `fn` returns, or throws a 4xx protocol error. Anything else fails the run. */
function cleanOr4xx(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof ProtocolError) return err.status >= 400 && err.status < 500;
    if (err instanceof RedirectError) return /^[a-z_]+$/.test(err.error);
    throw err;
  }
}

// ---- hostile strings --------------------------------------------------------------------------

/** Characters an attacker likes: controls, NUL, RTL marks, lone surrogates, emoji, separators. */
const NASTY = [
  '\u0000',
  '\t',
  '\n',
  '\r',
  ' ',
  '\u00a0',
  '\u200e',
  '\u202e',
  '\u2028',
  '\ud800',
  '\udfff',
  '😀',
  '%',
  '%00',
  '%ED%A0%80',
  '%C0%AF',
  '+',
  '&',
  '=',
  ':',
  ';',
  '/',
  '\\',
  '"',
  "'",
  '<',
  '>',
  '#',
  '?',
  '@',
  '.',
  '..',
  '*',
  '{',
  '}',
  '[',
  ']',
  '__proto__',
  'constructor',
  'prototype',
];
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.constantFrom(...NASTY), { maxLength: 20 }).map((a) => a.join('')),
  fc
    .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 4 })), { maxLength: 30 })
    .map((a) => a.join('')),
);

function request(over: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'POST',
    path: '/',
    host: 'acme.us.localhost',
    headers: {},
    rawQuery: '',
    query: new URLSearchParams(),
    cookies: {},
    pathParams: {},
    body: '',
    bodyBytes: 0,
    sourceIp: '198.51.100.7',
    userAgent: 'fast-check',
    requestId: 'r',
    ...over,
  };
}

const withBody = (body: string, contentType: string): HttpRequest =>
  request({ headers: { 'content-type': contentType }, body, bodyBytes: Buffer.byteLength(body, 'utf8') });

// ---- host resolution --------------------------------------------------------------------------

describe('resolveHost never throws and only resolves well-formed tenant hosts', () => {
  const cfg = readConfig({ BASE_DOMAIN: 'id.example.com', REGIONS: 'us,eu' });
  const label = fc.oneof(
    hostile,
    fc.stringMatching(/^[a-z0-9-]{0,70}$/),
    fc.constantFrom('us', 'eu', 'au', 'zz'),
  );
  const host = fc.oneof(
    hostile,
    fc
      .tuple(label, label, fc.constantFrom('id.example.com', 'ID.EXAMPLE.COM.', 'example.com', ''), hostile)
      .map(([a, b, base, tail]) => `${a}.${b}.${base}${tail}`),
    fc.tuple(label, fc.integer({ min: -1, max: 999_999 })).map(([a, p]) => `${a}.us.id.example.com:${p}`),
  );

  it('returns a resolution for every Host header', () => {
    fc.assert(
      fc.property(fc.option(host, { nil: undefined }), (h) => {
        const r = resolveHost(h, cfg);
        expect(['tenant', 'malformed', 'misdirected']).toContain(r.kind);
        if (r.kind === 'tenant') {
          // What resolves is a slug and a served region: nothing else reaches the tenant lookup.
          expect(r.slug).toMatch(/^[a-z0-9-]{2,63}$/);
          expect(cfg.servedRegions).toContain(r.region);
        }
      }),
      SETTINGS,
    );
  });
});

// ---- Basic credentials and the two credential checks that use them ------------------------------

describe('Basic credentials', () => {
  const header = fc.oneof(
    hostile,
    hostile.map((s) => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`),
    fc.uint8Array({ maxLength: 64 }).map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
    fc.tuple(hostile, hostile).map(([u, p]) => `basic   ${Buffer.from(`${u}:${p}`).toString('base64url')}  `),
    hostile.map((s) => `Basic ${s}`),
    hostile.map((s) => `Bearer ${s}`),
  );

  it('basicCredentials returns strings or nothing, and never throws', () => {
    fc.assert(
      fc.property(header, (authorization) => {
        const creds = basicCredentials(request({ headers: { authorization } }));
        if (creds) {
          expect(typeof creds.user).toBe('string');
          expect(typeof creds.password).toBe('string');
        }
      }),
      SETTINGS,
    );
  });

  it('user and password survive the round trip through form-encoding (RFC 6749 §2.3.1)', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 30 });
    fc.assert(
      fc.property(
        text.filter((u) => !u.includes(':')),
        text,
        (user, password) => {
          const enc = (s: string) => encodeURIComponent(s);
          const authorization = `Basic ${Buffer.from(`${enc(user)}:${enc(password)}`).toString('base64')}`;
          expect(basicCredentials(request({ headers: { authorization } }))).toEqual({ user, password });
        },
      ),
      SETTINGS,
    );
  });

  const ctx = {
    tenant: { id: 'tenant-id', secretHash: sha256('the-right-secret') },
  } as unknown as TenantContext;

  it('the tenant-secret check answers only 401 to anything but the secret', () => {
    fc.assert(
      fc.property(fc.option(header, { nil: undefined }), (authorization) => {
        const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
        let status = 0;
        try {
          checkTenantSecret(request({ headers }), ctx);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          status = err.status;
        }
        expect(status).toBe(401);
      }),
      SETTINGS,
    );
  });

  it('clientCredentials reads any header and form without throwing anything but a 4xx', () => {
    const form = fc.dictionary(
      fc.constantFrom('client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'x'),
      hostile,
    );
    fc.assert(
      fc.property(fc.option(header, { nil: undefined }), form, (authorization, f) => {
        const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
        return cleanOr4xx(() => clientCredentials(request({ headers }), f));
      }),
      SETTINGS,
    );
  });
});

// ---- form and JSON bodies ---------------------------------------------------------------------

describe('form and JSON bodies', () => {
  const contentType = fc.oneof(
    fc.constantFrom(
      'application/x-www-form-urlencoded',
      'APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8',
      'application/json',
      'application/json;charset=utf-16',
      'text/plain',
      'multipart/form-data; boundary=x',
      '',
    ),
    hostile,
  );
  const formBody = fc.oneof(
    hostile,
    fc
      .array(fc.tuple(fc.oneof(hostile, fc.constantFrom('a', 'b', 'code')), hostile), { maxLength: 20 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
  );

  it('parseForm returns a record of strings or throws 400/413/415', () => {
    fc.assert(
      fc.property(formBody, contentType, (b, type) =>
        cleanOr4xx(() => {
          const form = parseForm(withBody(b, type));
          for (const v of Object.values(form)) expect(typeof v).toBe('string');
          // A form is a plain record: a parameter named __proto__ is data, not a prototype.
          expect(Object.getPrototypeOf(form)).toBe(Object.prototype);
        }),
      ),
      SETTINGS,
    );
  });

  it('parseParams refuses every repeated parameter (RFC 6749 §3.1)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 8 }), (names) => {
        const query = names.map((n, i) => `${n}=${i}`).join('&');
        const repeated = new Set(names).size !== names.length;
        let status = 200;
        try {
          parseParams(query);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          status = err.status;
        }
        expect(status).toBe(repeated ? 400 : 200);
      }),
      SETTINGS,
    );
  });

  it('parseJson returns what the schema says or throws 400/413/415', () => {
    const schema = z.strictObject({
      userId: z.string().max(100),
      custom: z.record(z.string(), z.unknown()).optional(),
    });
    const jsonBody = fc.oneof(
      hostile,
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ userId: 'u', custom: v })),
      fc.constant('{"__proto__": {"polluted": true}, "userId": "u"}'),
      fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    );
    fc.assert(
      fc.property(
        jsonBody,
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/json'),
        (b, type) =>
          cleanOr4xx(() => {
            const value = parseJson(withBody(b, type), schema);
            expect(typeof value.userId).toBe('string');
            expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          }),
      ),
      SETTINGS,
    );
  });
});

// ---- redirect URIs ----------------------------------------------------------------------------

describe('redirect URI validation', () => {
  const uri = fc.oneof(
    hostile,
    fc.webUrl({ withFragments: true, withQueryParameters: true }),
    fc
      .tuple(
        fc.constantFrom('https://', 'http://', 'com.example.app:/', 'javascript:', 'data:', 'HTTP://', ''),
        hostile,
      )
      .map(([scheme, rest]) => scheme + rest),
    fc
      .tuple(
        fc.constantFrom(
          'localhost',
          '127.0.0.1',
          '[::1]',
          'a.localhost',
          'evil.com',
          'localhost.evil.com',
          '127.0.0.1.nip.io',
        ),
        hostile,
      )
      .map(([h, rest]) => `http://${h}/${rest}`),
  );

  it('never throws; what it accepts is absolute, without fragment or user info, and plain http only on loopback', () => {
    fc.assert(
      fc.property(uri, (value) => {
        const parsed = redirectUriSchema.safeParse(value);
        if (!parsed.success) return;
        const url = new URL(value);
        expect(value).not.toContain('#');
        expect(url.username + url.password).toBe('');
        expect(value).not.toContain('*');
        if (url.protocol === 'http:')
          expect(url.hostname).toMatch(/^(localhost|127\.0\.0\.1|\[::1\]|.+\.localhost)$/);
      }),
      SETTINGS,
    );
  });

  it('the same values through validate() give 400 and nothing else', () => {
    fc.assert(
      fc.property(fc.array(uri, { maxLength: 5 }), (list) =>
        cleanOr4xx(() => validate(z.array(redirectUriSchema), list)),
      ),
      SETTINGS,
    );
  });
});

// ---- JSON Logic rules -------------------------------------------------------------------------

describe('JSON Logic rules', () => {
  const OPERATORS = [
    'var',
    '==',
    '!',
    'and',
    'or',
    'if',
    '<',
    'in',
    'cat',
    'substr',
    '+',
    '/',
    '%',
    'min',
    'missing',
    'missing_some',
    'some',
    'all',
    'none',
    'merge',
    'ip_in_cidr',
    'map',
    'reduce',
    'log',
    '__proto__',
  ];
  const VARIABLES = [
    'custom.a',
    'user.isEnrolled',
    'user.methods',
    'user.methods.0',
    'request.ip',
    'request.userAgent',
    '',
    'custom.__proto__',
    'user.constructor',
    'custom',
    'x',
  ];
  const { condition } = fc.letrec<{ condition: unknown; leaf: unknown }>((tie) => ({
    leaf: fc.oneof(
      fc.jsonValue({ maxDepth: 1 }),
      fc.constantFrom(...VARIABLES).map((v) => ({ var: v })),
      fc.constantFrom('10.0.0.0/8', '::1/128', '300.1.1.1/33', 'nonsense', '0.0.0.0/0'),
    ),
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('leaf'),
      fc
        .tuple(fc.constantFrom(...OPERATORS), fc.array(tie('condition'), { maxLength: 4 }))
        .map(([op, args]) => ({ [op]: args })),
      fc.tuple(fc.constantFrom(...OPERATORS), tie('condition')).map(([op, arg]) => ({ [op]: arg })),
    ),
  }));
  const facts = ruleFacts({
    action: 'signIn',
    custom: { a: 1, b: 'x' },
    isEnrolled: true,
    methods: ['totp', 'email'],
    ip: '10.1.2.3',
    userAgent: 'fast-check',
  });

  it('checkCondition never throws and answers a bounded list of issues', () => {
    fc.assert(
      fc.property(fc.oneof(condition, fc.jsonValue({ maxDepth: MAX_CONDITION_DEPTH + 3 })), (c) => {
        const issues = checkCondition(c);
        expect(Array.isArray(issues)).toBe(true);
        expect(issues.length).toBeLessThanOrEqual(10);
      }),
      SETTINGS,
    );
  });

  it('rules are saved only through a 400, and what is saved evaluates without throwing', () => {
    const rule = fc.record({
      id: fc.oneof(fc.constantFrom('r1', 'r2'), hostile),
      condition,
      outcome: fc.constantFrom('ALLOW', 'CHALLENGE', 'BLOCK', 'DENY'),
    });
    fc.assert(
      fc.property(fc.oneof(fc.array(rule, { maxLength: 3 }), fc.jsonValue({ maxDepth: 3 })), (rules) =>
        cleanOr4xx(() => {
          const saved = validate(rulesSchema, rules) as Rule[];
          const errors: Error[] = [];
          const decided = evaluateRules(saved, facts, (_r, e) => errors.push(e));
          if (decided) expect(['ALLOW', 'CHALLENGE', 'BLOCK']).toContain(decided.outcome);
        }),
      ),
      SETTINGS,
    );
  });
});

// ---- claims and prompt ------------------------------------------------------------------------

describe('the claims and prompt parameters', () => {
  const claims = fc.oneof(
    hostile,
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc
      .dictionary(
        fc.constantFrom('id_token', 'userinfo', '__proto__', 'x'),
        fc.oneof(
          fc.dictionary(
            fc.constantFrom('email', 'phone_number', 'address', 'sub', '__proto__', 'toString'),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      )
      .map((v) => JSON.stringify(v)),
    fc.integer({ min: 4000, max: 5000 }).map((n) => `{"id_token":{"email":${' '.repeat(n)}null}}`),
  );

  it('checkClaims accepts an object of objects or throws invalid_request; requestedClaims never throws', () => {
    fc.assert(
      fc.property(claims, (value) =>
        cleanOr4xx(() => {
          const checked = checkClaims({ claims: value });
          for (const member of ['id_token', 'userinfo'] as const) {
            const names = requestedClaims(checked, member);
            expect(Array.isArray(names)).toBe(true);
            // Only claims this provider knows come out, never a prototype member.
            for (const n of names) expect(['__proto__', 'toString', 'constructor']).not.toContain(n);
          }
        }),
      ),
      SETTINGS,
    );
  });

  it('requestedClaims returns a list for anything stored, even what checkClaims would refuse', () => {
    fc.assert(
      fc.property(
        fc.option(claims, { nil: undefined }),
        fc.constantFrom('id_token', 'userinfo') as fc.Arbitrary<'id_token' | 'userinfo'>,
        (value, member) => {
          expect(Array.isArray(requestedClaims(value, member))).toBe(true);
        },
      ),
      SETTINGS,
    );
  });

  it('checkPrompt returns known values only, none alone (OIDC Core §3.1.2.1), or throws invalid_request', () => {
    const prompt = fc.oneof(
      hostile,
      fc
        .array(
          fc.constantFrom('none', 'login', 'consent', 'select_account', 'create', '', ' ', 'NONE', '\u00a0'),
          { maxLength: 6 },
        )
        .map((a) => a.join(' ')),
    );
    fc.assert(
      fc.property(prompt, (value) =>
        cleanOr4xx(() => {
          const values = checkPrompt({ prompt: value });
          for (const v of values) expect(['none', 'login', 'consent', 'select_account']).toContain(v);
          if (values.includes('none')) expect(values).toEqual(['none']);
        }),
      ),
      SETTINGS,
    );
  });
});
