import type { ClientRequest, ResponseMode } from '../records/authorization.js';
import {
  checkClient,
  checkDpopJkt,
  checkLengths,
  checkNotBothRequestAndUri,
  checkPkce,
  checkPushed,
  checkRedirectUri,
  checkResponseMode,
  checkResponseType,
  checkScope,
  checkSignedRequestObject,
} from './authorize-checks.js';
import { optional, type AuthorizeContext, type AuthorizeOutcome } from './authorize-context.js';
import { RedirectError } from './authorize-errors.js';
import { entraFlow } from './authorize-entra.js';
import { federatedFlow } from './authorize-federated.js';
import { loginFlow } from './authorize-login.js';
import { readRequestObject } from './request-object.js';
import { resolveRequestUri } from './request-uri.js';

/**
 * The authorization endpoint, assembled from small named checks in the order the spec decides them
 * (after node-oidc-provider's pipeline): requests with an init-auth `token` run the tenant's action
 * (`federatedFlow`); every other request is a hosted login (`loginFlow`). Until the client and
 * redirect URI are validated, errors are shown to the user on a page and never redirected (RFC 6749
 * §4.1.2.1); after that they go back to the client as `error` parameters.
 */
export async function authorize(
  query: Record<string, string>,
  ctx: AuthorizeContext,
): Promise<AuthorizeOutcome> {
  // RFC 9126 §4: a request_uri from the PAR endpoint stands for the pushed parameters.
  const now = ctx.now ?? Date.now();
  // A Microsoft Entra ID external authentication method request (its own client, not a registered one).
  const entra = await entraFlow(query, ctx, now);
  if (entra) return entra;
  const resolved = await resolveRequestUri(query, ctx.store);
  const client = await checkClient(resolved.params, ctx.clients);
  // RFC 9101 §5: a request object's parameters replace the outer ones (a pushed request's object
  // was verified when it was pushed).
  const {
    params: p,
    signed,
    refusal,
  } = resolved.pushed
    ? { ...resolved, refusal: undefined }
    : await readRequestObject(resolved.params, client, { store: ctx.store, issuer: ctx.issuer, now });
  const redirectUri = checkRedirectUri(p, client);
  // An unsupported response_mode is an error for the client like any other, sent back in the
  // default mode (query).
  let mode: ResponseMode = 'query';
  try {
    // Refused with invalid_request, sent to the redirect URI since the client and its redirect URI
    // are valid (RFC 6749 §4.1.2.1); nothing else of the request is acted upon.
    if (refusal) throw refusal;
    checkPushed(client, resolved.pushed);
    checkNotBothRequestAndUri(query);
    checkSignedRequestObject(client, signed);
    mode = checkResponseMode(p);
    const federated = p.token !== undefined;
    checkLengths(p);
    checkResponseType(p, federated);
    const request: ClientRequest = {
      clientId: client.client_id,
      redirectUri,
      responseMode: mode,
      scope: checkScope(p, client, federated),
      ...optional('state', p.state),
      ...optional('nonce', p.nonce),
      ...checkPkce(p, client),
      ...checkDpopJkt(p),
    };
    if (federated) return await federatedFlow(p, ctx, request, now);
    return await loginFlow(p, ctx, client, request, now);
  } catch (err) {
    if (!(err instanceof RedirectError)) throw err;
    const params = {
      error: err.error,
      error_description: err.description,
      ...optional('state', p.state),
      iss: ctx.issuer,
    };
    return { kind: 'response', redirectUri, mode, params };
  }
}
