/**
 * Shared steps of the federated `/init-auth` → `/oidc/auth` → `/oidc/token` flow (references 000
 * and 001), spoken over HTTP exactly as a tenant backend or an Azure AD B2C policy speaks them.
 */
import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import type { Response } from 'undici';
import { expect } from 'vitest';
import { basic, http, type TestServer } from './server.js';

export type TestTenant = Awaited<ReturnType<TestServer['tenant']>>;

/** A B2C tenant's OIDC reply URL, as B2C's technical profile sends it (UsePolicyInRedirectUri=false). */
export const B2C_REDIRECT = 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/oauth2/authresp';
/** An app's own callback, for flows that redirect with the code in the query. */
export const APP_REDIRECT = 'https://app.example.com/callback';

export const JSON_TYPE = { 'content-type': 'application/json' };
export const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

/** Azure AD B2C's Basic credentials: the same policy key as user and password. */
export const b2cAuth = (t: TestTenant) => basic(t.secret, t.secret);
/** The form the Authsignal-style federated flow documents: `Basic base64(secret:)`, an empty password. */
export const docAuth = (t: TestTenant) => basic(t.secret);

export async function body<T = Record<string, unknown>>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (status ${res.status}): ${text.slice(0, 300)}`);
  }
}

/** `PATCH /v1/clients/{tenantId}` registering the built-in client's redirect URIs. */
export function patchRedirectUris(t: TestTenant, uris: string[], clientId = t.id): Promise<Response> {
  return http(`${t.origin}/v1/clients/${clientId}`, {
    method: 'PATCH',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ redirect_uris: uris }),
  });
}

/**
 * The action most flows here run, configured ALLOW so that it always ends with a code at once,
 * whatever a CHALLENGE would do (tests of the outcomes configure their own actions).
 */
export const SIGN_IN = 'signIn';

/** A new tenant whose built-in client may return to the given redirect URIs, with SIGN_IN set to ALLOW. */
export async function federatedTenant(
  server: TestServer,
  uris: string[] = [B2C_REDIRECT, APP_REDIRECT],
): Promise<TestTenant> {
  const t = await server.tenant();
  const res = await patchRedirectUris(t, uris);
  expect(res.status, await res.clone().text()).toBe(200);
  await setOutcome(t, SIGN_IN, 'ALLOW');
  return t;
}

/** `PUT /v1/actions/{action}` with a default outcome. */
export async function setOutcome(
  t: TestTenant,
  action: string,
  defaultOutcome: 'ALLOW' | 'CHALLENGE' | 'BLOCK',
  extra: Record<string, unknown> = {},
): Promise<void> {
  const res = await http(`${t.origin}/v1/actions/${action}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ defaultOutcome, ...extra }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

export interface InitAuthResponse {
  token: string;
  idempotencyKey: string;
  expiresIn: number;
}

/** `POST /init-auth` with a JSON body; the raw response. */
export function postInitAuth(t: TestTenant, payload: unknown, authorization = b2cAuth(t)): Promise<Response> {
  return http(`${t.origin}/init-auth`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

/** `POST /init-auth` that must succeed. */
export async function initAuth(
  t: TestTenant,
  payload: Record<string, unknown>,
  authorization = b2cAuth(t),
): Promise<InitAuthResponse> {
  const res = await postInitAuth(t, payload, authorization);
  const json = await body<InitAuthResponse>(res);
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** `GET /oidc/auth` with exactly these query parameters. */
export function authorize(t: TestTenant, params: Record<string, string>): Promise<Response> {
  return http(`${t.origin}/oidc/auth?${new URLSearchParams(params)}`);
}

/** The parameters of a 302 authorization response, and the URI it goes to (without its query). */
export function redirectParams(res: Response): { target: string; params: Record<string, string> } {
  expect(res.status).toBe(302);
  const location = res.headers.get('location');
  expect(location).toBeTruthy();
  const url = new URL(location!);
  const params = Object.fromEntries(url.searchParams);
  url.search = '';
  return { target: url.toString(), params };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return String.fromCodePoint(n);
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Reads the auto-submitting form of a `response_mode=form_post` page the way a browser would. */
export function parseFormPost(html: string): {
  method: string;
  action: string;
  fields: Record<string, string>;
  scriptNonces: string[];
} {
  const form = /<form\b([^>]*)>/i.exec(html);
  expect(form, 'a <form> element').toBeTruthy();
  const attr = (tag: string, name: string) => {
    const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
    return m ? decodeEntities(m[2] ?? m[3] ?? '') : undefined;
  };
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
    const tag = m[0];
    if ((attr(tag, 'type') ?? '').toLowerCase() !== 'hidden') continue;
    const name = attr(tag, 'name');
    expect(name && !Object.hasOwn(fields, name), `hidden input ${name} appears once`).toBeTruthy();
    fields[name!] = attr(tag, 'value') ?? '';
  }
  const scriptNonces = [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => attr(m[0], 'nonce') ?? '');
  return {
    method: (attr(form![1]!, 'method') ?? 'get').toLowerCase(),
    action: attr(form![1]!, 'action') ?? '',
    fields,
    scriptNonces,
  };
}

/**
 * A user with nothing enrolled facing CHALLENGE is offered the hosted enrollment page (when the
 * action allows enrollment). This follows `/oidc/auth`'s 303 to `/interaction/{id}` with its
 * binding cookie, finds the skip form on the page and submits it, as the user's browser would:
 * the response is the authorization response that ends the flow.
 */
export async function skipEnrollment(t: TestTenant, authResponse: Response): Promise<Response> {
  expect(authResponse.status).toBe(303);
  const location = authResponse.headers.get('location') ?? '';
  expect(location).toMatch(/^\/interaction\/[^/?]+$/);
  const cookie = authResponse.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  expect(cookie).toBeTruthy();
  const pageRes = await http(`${t.origin}${location}`, { headers: { cookie } });
  expect(pageRes.status).toBe(200);
  const html = await pageRes.text();
  const skip = new RegExp(`<form[^>]*action="${location}/skip"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  expect(skip, 'the enrollment page offers to skip').toBeTruthy();
  const csrf = /name="csrf" value="([^"]*)"/.exec(skip![1]!)?.[1];
  expect(csrf).toBeTruthy();
  return http(`${t.origin}${location}/skip`, {
    method: 'POST',
    headers: { ...FORM_TYPE, cookie },
    body: new URLSearchParams({ csrf: decodeEntities(csrf!) }).toString(),
  });
}

export interface TokenResponse {
  access_token: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** `POST /oidc/token` with a form body; `auth` picks client_secret_post or client_secret_basic. */
export function postToken(
  t: TestTenant,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return http(`${t.origin}/oidc/token`, {
    method: 'POST',
    headers: { ...FORM_TYPE, ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** The authorization_code grant, authenticated with client_secret_post (B2C) or client_secret_basic. */
export function redeem(
  t: TestTenant,
  code: string,
  redirectUri: string | undefined,
  method: 'client_secret_post' | 'client_secret_basic' = 'client_secret_post',
  credentials: { id: string; secret: string } = t,
): Promise<Response> {
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    ...(redirectUri !== undefined ? { redirect_uri: redirectUri } : {}),
  };
  if (method === 'client_secret_post') {
    return postToken(t, { ...form, client_id: credentials.id, client_secret: credentials.secret });
  }
  return postToken(t, form, { authorization: basic(credentials.id, credentials.secret) });
}

/** The discovery document and a key set built from the JWKS fetched over HTTP. */
export async function keys(t: TestTenant): Promise<{
  issuer: string;
  jwks: JSONWebKeySet;
  keySet: ReturnType<typeof createLocalJWKSet>;
}> {
  const disc = await http(`${t.issuer}/.well-known/openid-configuration`);
  expect(disc.status).toBe(200);
  const doc = await body<{ issuer: string; jwks_uri: string }>(disc);
  const res = await http(doc.jwks_uri);
  expect(res.status).toBe(200);
  const jwks = await body<JSONWebKeySet>(res);
  return { issuer: doc.issuer, jwks, keySet: createLocalJWKSet(jwks) };
}

/** Verifies a JWT's signature against the tenant's JWKS and checks its `kid` is published there. */
export async function verify(
  t: TestTenant,
  jwt: string,
  audience = t.id,
): Promise<{ payload: JWTPayload & Record<string, unknown>; header: Record<string, unknown> }> {
  const { issuer, jwks, keySet } = await keys(t);
  const header = decodeProtectedHeader(jwt) as Record<string, unknown>;
  expect(header.kid).toBeTruthy();
  expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
  const { payload } = await jwtVerify(jwt, keySet, { issuer, audience, algorithms: ['RS256'] });
  return { payload: payload as JWTPayload & Record<string, unknown>, header };
}

/** One complete flow (query response mode, client_secret_post): the token response. */
export async function runFlow(
  t: TestTenant,
  input: { userId: string; action: string; [k: string]: unknown },
  opts: { redirectUri?: string; nonce?: string; state?: string } = {},
): Promise<{ tokens: TokenResponse; idempotencyKey: string }> {
  const redirectUri = opts.redirectUri ?? APP_REDIRECT;
  const init = await initAuth(t, input);
  const res = await authorize(t, {
    client_id: t.id,
    token: init.token,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: opts.state ?? 'st',
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
  });
  const { params } = redirectParams(res);
  expect(params.error, params.error_description).toBeUndefined();
  const tokenRes = await redeem(t, params.code!, redirectUri);
  const tokens = await body<TokenResponse>(tokenRes);
  expect(tokenRes.status, JSON.stringify(tokens)).toBe(200);
  return { tokens, idempotencyKey: init.idempotencyKey };
}

/** A userId no test has used, like a B2C objectId. */
export const newUserId = () => randomUUID();
