import { authenticatorsFor } from '../authenticators/for-tenant.js';
import { SecretBoxError } from '../crypto/secret-box.js';
import { audit } from '../http/audit.js';
import { parseForm, parseParams } from '../http/body.js';
import type { TenantContext } from '../http/handler.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import { translator } from '../i18n.js';
import type { Interaction, LoginState } from '../interaction/interaction.js';
import { interactionKey, saveInteraction } from '../interaction/repository.js';
import { logger } from '../log.js';
import { HOST_PREFIX, schemeCookies } from '../sessions/cookies.js';
import { UpstreamError } from '../upstream/client.js';
import {
  browserCookieName,
  startUpstream,
  takeState,
  UPSTREAM_STATE_TTL_SECONDS,
  UpstreamStateError,
  upstreamIdentity,
  usesFormPost,
} from '../upstream/flow.js';
import { linkedUser } from '../upstream/link.js';
import { IdentityProviderRepository, type StoredProvider } from '../upstream/provider.js';
import { screenUrl, type Env } from './env.js';
import { finishError } from './finish.js';
import { loginPassed } from './login.js';
import { expiredPage } from './expired.js';
import { seeOther } from './respond.js';
import { newNonce } from './views/layout.js';

/**
 * "Continue with <name>": the hosted login hands the sign-in to an upstream OpenID Connect
 * provider (upstream/flow.ts) and takes it back at `/oidc/callback/{id}`. What the upstream
 * proves becomes a local user (upstream/link.ts), and the sign-in goes on as any other: a second
 * method when the request asks for more, the session, consent, the code.
 */

export const providersOf = (ctx: TenantContext) =>
  new IdentityProviderRepository(ctx.store, ctx.services.secretBox, ctx.origin);

/**
 * The cookie holding this browser's half of one upstream request, readable only at the callback.
 * Sign in with Apple posts the answer from its own site (form_post), which a SameSite=Lax cookie
 * does not accompany, so Apple's is SameSite=None (Secure on https; `state` and this value
 * together are the CSRF protection, RFC 9700 §4.7.1).
 */
function browserCookie(
  provider: StoredProvider,
  state: string,
  value: string,
  secure: boolean,
  maxAge: number,
): string {
  const name = browserCookieName(state);
  const sameSite = usesFormPost(provider) && secure ? 'None' : 'Lax';
  const attributes = `HttpOnly; SameSite=${sameSite}; Max-Age=${maxAge}`;
  if (secure) return `${HOST_PREFIX}${name}=${value}; Path=/; ${attributes}; Secure`;
  return `${name}=${value}; Path=/oidc/callback/${provider.id}; ${attributes}`;
}

/** Sends the browser to the upstream's authorization endpoint, or ends the sign-in when it is unreachable. */
export async function goUpstream(env: Env, login: LoginState, providerId: string): Promise<HttpResponse> {
  if (login.stage !== 'identify') return seeOther(screenUrl(env));
  const provider = await providersOf(env.ctx).get(providerId);
  if (!provider) return seeOther(screenUrl(env));
  try {
    const { url, state, browserValue } = await startUpstream(env.ctx.store, provider, {
      interactionId: env.ix.id,
      origin: env.ctx.origin,
    });
    return seeOther(url, [
      browserCookie(provider, state, browserValue, env.secure, UPSTREAM_STATE_TTL_SECONDS),
    ]);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    logger.warn('upstream provider not available', { provider: provider.id, reason: err.message });
    return finishError(env, err.kind, 'the identity provider is not available');
  }
}

/** The interaction the callback's state names, opened without the binding cookie (the state proved the browser). */
async function openInteraction(req: HttpRequest, ctx: TenantContext, id: string): Promise<Env | undefined> {
  const ix = await ctx.store.get<Interaction & Record<string, unknown> & { consumedAt?: number }>(
    interactionKey(id),
  );
  if (!ix || ix.consumedAt !== undefined || !ix.login || ix.expiresAt * 1000 < Date.now()) return undefined;
  return {
    req,
    ctx,
    ix,
    t: translator(ix.locale),
    // No passkey ceremonies here (and no WebAuthn in this route's bundle): only the user's methods are listed.
    auth: authenticatorsFor(ctx.store, ctx.services, ctx.tenant, ctx.origin),
    nonce: newNonce(),
    secure: ctx.origin.startsWith('https:'),
  };
}

/** GET and POST /oidc/callback/{id}: the upstream's authorization response (OIDC Core §3.1.2.5, §3.1.2.6). */
export async function upstreamCallback(sent: HttpRequest, ctx: TenantContext): Promise<HttpResponse> {
  const secure = ctx.origin.startsWith('https:');
  const req = { ...sent, cookies: schemeCookies(sent.cookies, secure) };
  const params = req.method === 'POST' ? parseForm(req) : parseParams(req.query);
  const providers = providersOf(ctx);
  const provider = await providers.get(req.pathParams.id ?? '');
  if (!provider) return expiredPage(ctx);
  let record;
  try {
    record = await takeState(
      ctx.store,
      provider.id,
      params,
      (state) => req.cookies[browserCookieName(state)],
    );
  } catch (err) {
    if (err instanceof UpstreamStateError) return expiredPage(ctx);
    throw err;
  }
  const env = await openInteraction(req, ctx, record.interactionId);
  if (!env) return expiredPage(ctx);
  const done = [browserCookie(provider, params.state!, '', secure, 0)];
  let identity;
  try {
    identity = await upstreamIdentity(providers, provider, record, params, ctx.origin);
  } catch (err) {
    const kind =
      err instanceof UpstreamError
        ? err.kind
        : err instanceof SecretBoxError
          ? 'temporarily_unavailable'
          : undefined;
    if (!kind) throw err;
    logger.warn('upstream sign-in refused', { provider: provider.id, reason: (err as Error).message });
    const ended = await finishError(env, kind, 'the sign-in at the identity provider did not succeed');
    return { ...ended, cookies: [...(ended.cookies ?? []), ...done] };
  }
  const linked = await linkedUser(ctx.store, provider, identity);
  if (linked.linked)
    await audit(req, ctx, { kind: 'user', id: linked.userId }).record({
      type: 'identity_provider.linked',
      detail: { userId: linked.userId, provider: provider.id, by: linked.linked },
    });
  env.ix = await saveInteraction(ctx.store, env.ix.id, {
    userId: linked.userId,
    login: { ...env.ix.login!, stage: 'challenge', upstream: provider.id },
  });
  const res = await loginPassed(env, 'UPSTREAM', false);
  return { ...res, cookies: [...(res.cookies ?? []), ...done] };
}
