import { authenticatorsFor } from '../authenticators/for-tenant.js';
import type { PasskeysFactory } from '../authenticators/service.js';
import type { TenantContext } from '../http/handler.js';
import { MAX_BODY_BYTES, parseParams } from '../http/body.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import { translator } from '../i18n.js';
import { csrfValid } from '../interaction/interaction.js';
import { loadInteraction } from '../interaction/repository.js';
import { ConditionFailedError } from '../store/store.js';
import { schemeCookies } from '../sessions/cookies.js';
import { presentedBinding } from './binding.js';
import type { Env } from './env.js';
import { expiredPage } from './expired.js';
import { InteractionOverError } from './finish.js';
import { jsonOk } from './respond.js';
import { renderView } from './screens.js';
import { PASSKEY_STEPS, runStep } from './steps.js';
import { newNonce } from './views/layout.js';

/**
 * The hosted challenge pages: `GET /interaction/{id}` renders the current screen (screens.ts) and
 * `POST /interaction/{id}/{step}` acts (steps.ts). Every step checks the browser binding cookie and
 * the CSRF token first.
 */

async function open(
  sent: HttpRequest,
  ctx: TenantContext,
  parts: { passkeys?: PasskeysFactory; parsePhone?: Env['parsePhone'] } = {},
): Promise<Env | HttpResponse> {
  const secure = ctx.origin.startsWith('https:');
  // The page code reads cookies by their bare names; on https only the `__Host-` ones count.
  const req = { ...sent, cookies: schemeCookies(sent.cookies, secure) };
  const id = req.pathParams.id ?? '';
  const loaded = await loadInteraction(ctx.store, id, presentedBinding(id, req.cookies));
  if (loaded.status !== 'ok') return expiredPage(ctx);
  const ix = loaded.interaction;
  return {
    req,
    ctx,
    ix,
    t: translator(ix.locale),
    auth: authenticatorsFor(ctx.store, ctx.services, ctx.tenant, ctx.origin, parts.passkeys),
    nonce: newNonce(),
    secure,
    ...(parts.parsePhone ? { parsePhone: parts.parsePhone } : {}),
  };
}

/** GET /interaction/{id}?view=… */
export async function renderInteraction(req: HttpRequest, ctx: TenantContext): Promise<HttpResponse> {
  const env = await open(req, ctx);
  if (!('ix' in env)) return env;
  return renderView(env, req.query.get('view') ?? undefined);
}

function readBody(
  req: HttpRequest,
): { form: Record<string, string>; json?: Record<string, unknown> } | undefined {
  if (req.bodyBytes > MAX_BODY_BYTES) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/json') {
      const json = JSON.parse(req.body) as unknown;
      if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
      const obj = json as Record<string, unknown>;
      return { form: { csrf: typeof obj.csrf === 'string' ? obj.csrf : '' }, json: obj };
    }
    if (type === 'application/x-www-form-urlencoded') return { form: parseParams(req.body) };
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * POST /interaction/{id}/{step}, and POST /interaction/{id}/passkey/{step} with the passkey
 * ceremonies (`passkeys`): those run in a function of their own, so the pages' main function does
 * not load `@simplewebauthn/server` and its ASN.1 parsers (about 350 KB) on a cold start. Each
 * route answers only its own steps.
 */
export async function interactionStep(
  req: HttpRequest,
  ctx: TenantContext,
  route: { passkeys: PasskeysFactory; step: string } | { parsePhone: NonNullable<Env['parsePhone']> },
): Promise<HttpResponse> {
  const ceremony = 'passkeys' in route;
  const step = ceremony ? route.step : (req.pathParams.step ?? '');
  if (PASSKEY_STEPS.has(step) !== ceremony)
    return jsonOk({ error: 'not_found', error_description: 'no such step here' }, 404);
  const env = await open(
    req,
    ctx,
    ceremony ? { passkeys: route.passkeys } : { parsePhone: route.parsePhone },
  );
  if (!('ix' in env)) return env;
  // The ceremonies are the steps the page's script calls, with a JSON body and a JSON answer.
  const isJson = ceremony;
  const body = readBody(req);
  if (!body || !csrfValid(env.ix, body.form.csrf) || (isJson && !body.json)) {
    if (isJson) return jsonOk({ error: 'invalid_request', error_description: env.t('form_expired') }, 403);
    return renderView(env, undefined, { error: env.t('form_expired'), status: 403 });
  }
  try {
    return await runStep(env, step, body.form, body.json);
  } catch (err) {
    // A request that lost a race to another one finishing this interaction (a write on condition
    // that it is still open failed): the sign-in has ended, which is a page, never a 5xx.
    if (err instanceof InteractionOverError || err instanceof ConditionFailedError) return expiredPage(ctx);
    throw err;
  }
}
