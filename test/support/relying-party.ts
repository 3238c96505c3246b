/**
 * Shared steps of the OIDC/OAuth tests: registering clients, getting a code through the federated
 * `/init-auth` flow, and `openid-client` (a certified relying party library) configured to reach
 * `*.localhost` through the loopback agent.
 */
import * as client from 'openid-client';
import { expect } from 'vitest';
import {
  APP_REDIRECT,
  FORM_TYPE,
  JSON_TYPE,
  SIGN_IN,
  body,
  docAuth,
  initAuth,
  newUserId,
  type TestTenant,
} from './flow.js';
import { http } from './server.js';

export { client };

/** openid-client's `customFetch`: undici through the loopback agent, answered as a standard Response. */
export const rpFetch: client.CustomFetch = async (url, options) => {
  const res = await http(url, {
    method: options.method,
    headers: Object.fromEntries(
      new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).entries(),
    ),
    body: options.body as string | undefined,
  });
  const status = res.status;
  const payload = status === 204 || status === 304 ? null : await res.arrayBuffer();
  return new Response(payload, { status, statusText: res.statusText, headers: [...res.headers.entries()] });
};

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  [k: string]: unknown;
}

/** `POST /v1/clients`; must succeed. */
export async function registerClient(
  t: TestTenant,
  metadata: Record<string, unknown>,
): Promise<RegisteredClient> {
  const res = await http(`${t.origin}/v1/clients`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ client_name: 'app', redirect_uris: [APP_REDIRECT], ...metadata }),
  });
  const json = await body<RegisteredClient>(res);
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

/** A confidential app allowed every grant and every standard scope. */
export function fullClient(t: TestTenant, extra: Record<string, unknown> = {}): Promise<RegisteredClient> {
  return registerClient(t, {
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    scope: 'openid profile email phone address offline_access api:read api:write',
    resources: ['https://api.example.com', 'https://other.example.com/v1'],
    ...extra,
  });
}

const insecure = { execute: [client.allowInsecureRequests], [client.customFetch]: rpFetch };

/** openid-client's Configuration from the tenant's discovery document. */
export function rp(
  t: TestTenant,
  clientId: string,
  auth?: client.ClientAuth | string,
  metadata: Partial<client.ClientMetadata> = {},
): Promise<client.Configuration> {
  const secret = typeof auth === 'string' ? auth : undefined;
  const method = typeof auth === 'string' || auth === undefined ? undefined : auth;
  return client.discovery(
    new URL(t.issuer),
    clientId,
    { ...metadata, ...(secret ? { client_secret: secret } : {}) },
    method,
    insecure,
  );
}

/**
 * The federated flow up to the authorization response: `/init-auth` for a user, then `/oidc/auth`
 * built by openid-client for the given client; returns the callback URL (code, state, iss).
 */
export async function authorizationResponse(
  t: TestTenant,
  config: client.Configuration,
  opts: {
    userId?: string;
    scope?: string;
    state?: string;
    nonce?: string;
    codeChallenge?: string;
    redirectUri?: string;
  } = {},
): Promise<{ callback: URL; userId: string }> {
  const userId = opts.userId ?? newUserId();
  // The token is bound to the client that will use it (the built-in one when none is named).
  const init = await initAuth(t, { userId, action: SIGN_IN, clientId: config.clientMetadata().client_id });
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: opts.redirectUri ?? APP_REDIRECT,
    scope: opts.scope ?? 'openid',
    token: init.token,
    ...(opts.state ? { state: opts.state } : {}),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
    ...(opts.codeChallenge ? { code_challenge: opts.codeChallenge, code_challenge_method: 'S256' } : {}),
  });
  const res = await http(url.href);
  expect(res.status, await res.clone().text()).toBe(302);
  const callback = new URL(res.headers.get('location')!);
  expect(callback.searchParams.get('error'), callback.searchParams.get('error_description') ?? '').toBeNull();
  return { callback, userId };
}

/** A whole login with openid-client: authorization response, then the authorization_code grant. */
export async function login(
  t: TestTenant,
  config: client.Configuration,
  scope: string,
  userId?: string,
): Promise<{ tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers; userId: string }> {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const verifier = client.randomPKCECodeVerifier();
  const { callback, userId: sub } = await authorizationResponse(t, config, {
    scope,
    state,
    nonce,
    codeChallenge: await client.calculatePKCECodeChallenge(verifier),
    ...(userId ? { userId } : {}),
  });
  const tokens = await client.authorizationCodeGrant(config, callback, {
    expectedState: state,
    expectedNonce: nonce,
    pkceCodeVerifier: verifier,
    idTokenExpected: scope.split(' ').includes('openid'),
  });
  return { tokens, userId: sub };
}

/** A raw form POST to an endpoint under the issuer. */
export function postForm(
  t: TestTenant,
  path: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
) {
  return http(`${t.issuer}${path}`, {
    method: 'POST',
    headers: { ...FORM_TYPE, ...headers },
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
}

/** The error of an OAuth error response: status and `error`. */
export async function oauthError(
  res: Awaited<ReturnType<typeof http>>,
): Promise<{ status: number; error: string; description: string }> {
  const json = await body<{ error: string; error_description: string }>(res);
  return { status: res.status, error: json.error, description: json.error_description };
}

/** The OAuth `error` of a failed openid-client call (a ResponseBodyError or a challenge). */
export async function rpError(
  promise: Promise<unknown>,
): Promise<{ error?: string; status?: number; name: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { error?: string; status?: number; name: string; cause?: unknown; response?: Response };
    if (e.error !== undefined) return { error: e.error, status: e.status, name: e.name };
    // WWWAuthenticateChallengeError: the error is in the challenge's parameters.
    const challenges = e.cause as { parameters?: { error?: string } }[] | undefined;
    return { error: challenges?.[0]?.parameters?.error, status: e.response?.status, name: e.name };
  }
  throw new Error('expected the call to fail');
}
