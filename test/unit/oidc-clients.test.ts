import { describe, expect, it } from 'vitest';
import {
  clientRuleViolation,
  createClientSchema,
  withDefaults,
  type Client,
} from '../../functions/clients/client.js';
import { discoveryDocument } from '../../functions/oidc/discovery.js';
import { resolveAudiences, scopeTokens } from '../../functions/oidc/token-request.js';
import type { HttpRequest } from '../../functions/http/request.js';
import { parseTokenRequest } from '../../functions/http/token-form.js';

function client(overrides: Partial<Client> = {}): Client {
  return withDefaults({
    client_id: 'c1',
    client_name: 'app',
    built_in: false,
    client_type: 'confidential',
    redirect_uris: [],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'openid',
    token_endpoint_auth_method: 'client_secret_basic',
    require_pkce: false,
    first_party: false,
    access_token_lifetime: 600,
    id_token_lifetime: 600,
    created_at: '',
    updated_at: '',
    ...overrides,
  } as Client);
}

function formRequest(body: string, contentType = 'application/x-www-form-urlencoded'): HttpRequest {
  return {
    method: 'POST',
    path: '/oidc/token',
    host: 'x',
    headers: { 'content-type': contentType },
    rawQuery: '',
    query: new URLSearchParams(),
    cookies: {},
    pathParams: {},
    body,
    bodyBytes: Buffer.byteLength(body),
    sourceIp: '127.0.0.1',
    userAgent: '',
    requestId: 'r',
  };
}

describe('client metadata', () => {
  it('fills the new fields of a client stored before they existed', () => {
    const c = client();
    expect(c.resources).toEqual([]);
    expect(c.refresh_token_lifetime).toBe(14 * 86_400);
    expect(c.refresh_token_absolute_lifetime).toBe(90 * 86_400);
  });

  it.each([
    [
      {
        client_type: 'public' as const,
        token_endpoint_auth_method: 'client_secret_post' as const,
        require_pkce: true,
      },
      'public',
    ],
    [
      { client_type: 'public' as const, token_endpoint_auth_method: 'none' as const, require_pkce: false },
      'PKCE',
    ],
    [
      {
        client_type: 'public' as const,
        token_endpoint_auth_method: 'none' as const,
        require_pkce: true,
        grant_types: ['client_credentials' as const],
      },
      'client_credentials',
    ],
    [{ token_endpoint_auth_method: 'none' as const }, 'must authenticate'],
    [{ token_endpoint_auth_method: 'private_key_jwt' as const }, 'jwks'],
    [{ refresh_token_lifetime: 100, refresh_token_absolute_lifetime: 99 }, 'absolute'],
  ])('refuses %j', (overrides, message) => {
    expect(clientRuleViolation(client(overrides))).toContain(message);
  });

  it('accepts a consistent private_key_jwt client', () => {
    expect(
      clientRuleViolation(
        client({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] },
        }),
      ),
    ).toBeUndefined();
  });

  it('keeps only the public members of a registered JWK and refuses private ones', () => {
    const ok = createClientSchema.parse({
      client_name: 'x',
      jwks: { keys: [{ kty: 'RSA', n: 'abc', e: 'AQAB', kid: 'k', x5c: ['...'], key_ops: ['verify'] }] },
    });
    expect(ok.jwks!.keys[0]).toEqual({ kty: 'RSA', n: 'abc', e: 'AQAB', kid: 'k' });
    const bad = createClientSchema.safeParse({
      client_name: 'x',
      jwks: { keys: [{ kty: 'RSA', n: 'a', e: 'AQAB', d: 'secret' }] },
    });
    expect(bad.success).toBe(false);
  });
});

describe('token requests', () => {
  it('collects repeated resource parameters and an audience, and still refuses other repeats', () => {
    const { form, resources } = parseTokenRequest(
      formRequest(
        'grant_type=client_credentials&resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example&audience=https%3A%2F%2Fa.example',
      ),
    );
    expect(form.grant_type).toBe('client_credentials');
    expect(form).not.toHaveProperty('resource');
    expect(resources).toEqual(['https://a.example', 'https://b.example']);
    expect(() => parseTokenRequest(formRequest('scope=a&scope=b'))).toThrow(/repeated/);
    expect(() => parseTokenRequest(formRequest('{}', 'application/json'))).toThrow();
  });

  it('resolves audiences against the client and the grant', () => {
    const c = client({ resources: ['https://a.example', 'https://b.example'] });
    expect(resolveAudiences([], c, ['c1'])).toEqual(['c1']);
    expect(resolveAudiences(['https://b.example'], c, ['c1'])).toEqual(['https://b.example']);
    expect(() => resolveAudiences(['https://z.example'], c, ['c1'])).toThrow(/not allowed/);
    expect(() => resolveAudiences(['https://b.example'], c, ['c1'], ['https://a.example'])).toThrow(
      /not allowed/,
    );
    expect(() => resolveAudiences(['urn'], c, ['c1'])).toThrow();
  });

  it('splits scopes once each', () => {
    expect(scopeTokens(' openid  email openid ')).toEqual(['openid', 'email']);
    expect(scopeTokens(undefined)).toEqual([]);
  });
});

describe('discovery', () => {
  it('lists the endpoints under the issuer', () => {
    const doc = discoveryDocument('https://acme.eu.id.example.com/oidc');
    expect(doc).toMatchObject({
      userinfo_endpoint: 'https://acme.eu.id.example.com/oidc/userinfo',
      revocation_endpoint: 'https://acme.eu.id.example.com/oidc/token/revocation',
      introspection_endpoint: 'https://acme.eu.id.example.com/oidc/token/introspection',
    });
  });
});
