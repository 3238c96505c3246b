import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import { nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { appleClientSecret } from './apple.js';
import { discover, redeemCode, UpstreamError, verifyIdToken } from './client.js';
import { isMultiTenant } from './issuer.js';
import { callbackUri, type IdentityProviderRepository, type StoredProvider } from './provider.js';

/**
 * The upstream leg of a hosted sign-in (OIDC Core §3.1.2): the authorization request with `state`,
 * `nonce` and PKCE (RFC 7636, S256), and the callback that redeems the code. What the request
 * needs again at the callback — the interaction, the nonce, the code verifier, and the hash of a
 * value only the starting browser holds in a cookie — is one record under the hash of `state`,
 * consumed with one conditional write, so a callback works once and only in that browser (RFC 9700
 * §4.7 on CSRF: `state` bound to the user agent).
 */
export const UPSTREAM_STATE_TTL_SECONDS = 10 * 60;

interface StateRecord {
  interactionId: string;
  providerId: string;
  nonce: string;
  codeVerifier: string;
  browserHash: string;
  expiresAt: number;
}

const stateKey = (state: string) => ({ pk: `upstream-state#${sha256(state)}`, sk: 'state' });

/** The cookie that holds the browser's half of one upstream request (named per request). */
export const browserCookieName = (state: string) => `idp_up_${sha256(state).slice(0, 16)}`;

/** Sign in with Apple sends the code as a form post (`response_mode=form_post`) when names or emails are asked. */
export const usesFormPost = (provider: StoredProvider) => provider.type === 'apple';

export async function startUpstream(
  store: TenantStore,
  provider: StoredProvider,
  opts: { interactionId: string; origin: string; loginHint?: string },
  now = Date.now(),
): Promise<{ url: string; state: string; browserValue: string }> {
  const doc = await discover(provider, now);
  const state = randomBytes(32).toString('base64url');
  const nonce = randomBytes(32).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const browserValue = randomBytes(32).toString('base64url');
  const record: StateRecord = {
    interactionId: opts.interactionId,
    providerId: provider.id,
    nonce,
    codeVerifier,
    browserHash: sha256(browserValue),
    expiresAt: nowSeconds(now) + UPSTREAM_STATE_TTL_SECONDS,
  };
  await store.put(stateKey(state), { ...record });
  const url = new URL(doc.authorization_endpoint);
  const params = {
    response_type: 'code',
    client_id: provider.client_id,
    redirect_uri: callbackUri(opts.origin, provider.id),
    scope: provider.scopes,
    state,
    nonce,
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(usesFormPost(provider) ? { response_mode: 'form_post' } : {}),
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url: url.toString(), state, browserValue };
}

/** Why a callback is not for any sign-in in progress here: it answers a page, not a redirect. */
export class UpstreamStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamStateError';
  }
}

/** What a finished upstream leg proved: who, at which provider, with the ID token's claims. */
export interface UpstreamIdentity {
  sub: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
}

/**
 * The callback: first the state (this browser's, for this provider, unused — consumed here), which
 * names the interaction; then the upstream's answer. Throws `UpstreamStateError` when no sign-in
 * of this browser is waiting for it, and `UpstreamError` (with the interaction) otherwise.
 */
export async function takeState(
  store: TenantStore,
  providerId: string,
  params: Record<string, string>,
  browserValue: (state: string) => string | undefined,
): Promise<StateRecord> {
  const state = params.state;
  if (!state || state.length > 200) throw new UpstreamStateError('the callback has no state');
  const presented = browserValue(state);
  const record = await store.get<StateRecord & Record<string, unknown>>(stateKey(state));
  if (
    !record ||
    record.providerId !== providerId ||
    !presented ||
    !constantTimeEqual(sha256(presented), record.browserHash)
  )
    throw new UpstreamStateError('no sign-in of this browser waits for this callback');
  const taken = await store.consume<StateRecord & Record<string, unknown>>(stateKey(state));
  if (taken.status !== 'consumed') throw new UpstreamStateError('this callback has already been used');
  return taken.item;
}

/** The upstream's answer to a taken state: the identity, or an `UpstreamError`. */
export async function upstreamIdentity(
  providers: IdentityProviderRepository,
  provider: StoredProvider,
  record: StateRecord,
  params: Record<string, string>,
  origin: string,
): Promise<UpstreamIdentity> {
  // RFC 6749 §4.1.2.1: the user refused, or the upstream could not serve the request.
  if (params.error) {
    const kind = params.error === 'temporarily_unavailable' || params.error === 'server_error';
    throw new UpstreamError(
      kind ? 'temporarily_unavailable' : 'access_denied',
      'the upstream provider refused the sign-in',
    );
  }
  // RFC 9207 §2.4: an `iss` in the response must be the provider's (mix-up attacks).
  if (
    params.iss !== undefined &&
    !(provider.type === 'microsoft' && isMultiTenant(provider.tenant)) &&
    params.iss !== provider.issuer
  )
    throw new UpstreamError('access_denied', 'the authorization response came from another issuer');
  if (!params.code || params.code.length > 4096)
    throw new UpstreamError('access_denied', 'the callback has no code');
  const doc = await discover(provider);
  const clientSecret = await clientSecretFor(providers, provider);
  const idToken = await redeemCode(provider, doc, {
    code: params.code,
    redirectUri: callbackUri(origin, provider.id),
    codeVerifier: record.codeVerifier,
    clientSecret,
  });
  const claims = await verifyIdToken(provider, doc, idToken, record.nonce);
  const email = typeof claims.email === 'string' && claims.email.length <= 254 ? claims.email : undefined;
  // Apple sends email_verified as the string "true".
  const emailVerified = claims.email_verified === true || claims.email_verified === 'true';
  const name = typeof claims.name === 'string' ? claims.name.slice(0, 200) : undefined;
  return {
    sub: claims.sub!,
    ...(email ? { email } : {}),
    emailVerified: Boolean(email) && emailVerified,
    ...(name ? { name } : {}),
  };
}

async function clientSecretFor(
  providers: IdentityProviderRepository,
  provider: StoredProvider,
): Promise<string> {
  const secret = await providers.openSecret(provider);
  if (provider.type !== 'apple') return secret;
  return appleClientSecret({
    teamId: provider.team_id!,
    keyId: provider.key_id!,
    clientId: provider.client_id,
    privateKeyPem: secret,
  });
}
