import type { Client } from '../clients/client.js';
import { constantTimeEqual, randomSecret, sha256 } from '../crypto/secrets.js';
import { readAttempt, splitToken } from '../federation/attempt.js';
import { badRequest } from '../errors.js';
import { nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { RedirectError } from './authorize-errors.js';
import {
  checkDpopJkt,
  checkLengths,
  checkPkce,
  checkResponseMode,
  checkResponseType,
  checkScope,
} from './authorize-checks.js';
import { checkAcr, checkClaims, checkMaxAge, checkPrompt, checkResource } from './login-request.js';
import { RequestObjectError, verifyRequestObject, type RequestObjectContext } from './request-object.js';
import { PAR_TTL_SECONDS, REQUEST_URI_PREFIX, pushedRequestKey, type PushedRequest } from './request-uri.js';

/** Parameters that authenticate the client at the PAR endpoint and are no part of the request (RFC 9126 §2.1). */
const CLIENT_AUTHENTICATION = ['client_secret', 'client_assertion', 'client_assertion_type'];

export interface PushedAuthorizationResponse {
  request_uri: string;
  expires_in: number;
}

/**
 * `POST /oidc/request` after client authentication (RFC 9126 §2.1): the pushed authorization
 * request is validated as the authorization endpoint would validate it — everything that does not
 * need the user — and stored under the hash of a 256-bit random reference for 60 seconds. What is
 * not checked here (`id_token_hint`, the SSO session) is checked at `/oidc/auth`, which runs every
 * check again on the pushed parameters anyway (RFC 9126 §4, §7.4: the client's policy may change
 * in between). A pushed `request` object is verified here and only its parameters are kept
 * (RFC 9126 §3, RFC 9101 §5); the authorization endpoint then knows the request was signed.
 */
export async function pushAuthorizationRequest(
  form: Record<string, string>,
  client: Client,
  ctx: RequestObjectContext,
  /** The key of a valid DPoP proof sent with the push (RFC 9449 §10.1). */
  dpopJkt?: string,
): Promise<PushedAuthorizationResponse> {
  const now = ctx.now ?? Date.now();
  if (form.request_uri !== undefined)
    throw badRequest('request_uri must not be sent to the pushed authorization request endpoint');
  const signed = form.request !== undefined;
  const params = signed
    ? await objectParams(form.request!, client, ctx)
    : Object.fromEntries(Object.entries(form).filter(([name]) => !CLIENT_AUTHENTICATION.includes(name)));
  params.client_id = client.client_id;
  bindToProofKey(params, dpopJkt);
  // RFC 9101 §10.5: such a client pushes signed request objects only.
  if (client.require_signed_request_object && !signed)
    throw badRequest('this client must push its requests as a signed request object');
  await validate(params, client, ctx.store);

  const reference = randomSecret();
  const item: PushedRequest = {
    clientId: client.client_id,
    params: JSON.stringify(params),
    ...(signed ? { signed: true } : {}),
    expiresAt: nowSeconds(now) + PAR_TTL_SECONDS,
  };
  await ctx.store.put(pushedRequestKey(reference), { ...item }, { ifAbsent: true });
  return { request_uri: `${REQUEST_URI_PREFIX}${reference}`, expires_in: PAR_TTL_SECONDS };
}

/**
 * RFC 9449 §10.1: a DPoP proof sent with the push binds the code to its key, as `dpop_jkt` does;
 * both sent, they must name the same key.
 */
function bindToProofKey(params: Record<string, string>, dpopJkt: string | undefined): void {
  if (dpopJkt === undefined) return;
  if (params.dpop_jkt !== undefined && params.dpop_jkt !== dpopJkt)
    throw badRequest('dpop_jkt is not the key of the DPoP proof', 'invalid_dpop_proof');
  params.dpop_jkt = dpopJkt;
}

/** The verified object's parameters; a refused object answers 400 `invalid_request_object` (RFC 9126 §2.3). */
async function objectParams(
  jwt: string,
  client: Client,
  ctx: RequestObjectContext,
): Promise<Record<string, string>> {
  try {
    return await verifyRequestObject(jwt, client, ctx);
  } catch (err) {
    if (err instanceof RequestObjectError) throw badRequest(err.description, 'invalid_request_object');
    throw err;
  }
}

async function validate(p: Record<string, string>, client: Client, store: TenantStore): Promise<void> {
  // RFC 9126 §2.3: where RFC 6749 §4.1.2.1 would not redirect, the error is invalid_request.
  if (!p.redirect_uri) throw badRequest('redirect_uri is required');
  if (!client.redirect_uris.includes(p.redirect_uri))
    throw badRequest('the redirect_uri is not registered for this client');
  const federated = p.token !== undefined;
  try {
    checkResponseMode(p);
    checkLengths(p);
    checkResponseType(p, federated);
    checkScope(p, client, federated);
    checkPkce(p, client);
    checkDpopJkt(p);
    if (federated) {
      await checkToken(p.token!, store);
    } else {
      checkPrompt(p);
      checkMaxAge(p);
      checkAcr(p);
      checkClaims(p);
      checkResource(p, client);
    }
  } catch (err) {
    // The errors the authorization endpoint would redirect with, as a JSON answer (RFC 9126 §2.3).
    if (err instanceof RedirectError) throw badRequest(err.description, err.error);
    throw err;
  }
}

/** A federated request's `/init-auth` token must exist and be unused; it is consumed at /oidc/auth. */
async function checkToken(token: string, store: TenantStore): Promise<void> {
  const parts = token.length <= 200 ? splitToken(token) : undefined;
  const attempt = parts && (await readAttempt(store, parts.idempotencyKey));
  if (
    !parts ||
    !attempt ||
    attempt.consumedAt !== undefined ||
    !constantTimeEqual(attempt.tokenHash, sha256(parts.secret))
  ) {
    throw new RedirectError(
      'invalid_request',
      'the token is invalid, expired or already used: start again with /init-auth',
    );
  }
}
