import { recordAudit } from '../audit/record.js';
import type { Client } from '../clients/client.js';
import type { ClientRepository } from '../clients/client-repository.js';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import { endSession, loadAccounts, SESSION_COOKIE, sessionCookie } from '../sessions/session.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import { PageError } from './authorize-errors.js';
import { notifyLogout } from './backchannel-logout.js';
import type { LogoutDelivery } from './logout-delivery.js';
import { verifyIdTokenHint, type IdTokenHint } from './id-token-hint.js';

/**
 * RP-Initiated Logout 1.0. A valid `id_token_hint` for one of the browser's accounts ends that
 * account's session at once (the others stay signed in); without one, the user confirms first and every account ends, so a third-party page cannot sign people
 * out by linking here (§2, "the OP SHOULD ask the End-User"). The post-logout redirect must be
 * registered for the client, matched exactly (§3), and is never used without knowing the client.
 */
export type EndSessionOutcome =
  | { kind: 'redirect'; location: string; clearCookie?: string }
  | { kind: 'signed-out'; clearCookie?: string }
  | { kind: 'confirm'; csrf: string; params: Record<string, string> };

/** The confirmation form's token: derived from the session cookie, so only that browser has it. */
const logoutCsrf = (cookieValue: string) => sha256(`logout:${cookieValue}`);

/** The hint must be an ID token of this tenant (never an access token); its audience is checked below. */
async function hintClaims(hint: string, signer: Signer, issuer: string): Promise<IdTokenHint> {
  const claims = await verifyIdTokenHint(hint, signer, issuer);
  if (!claims)
    throw new PageError(400, 'invalid_request', 'The id_token_hint is not an ID token issued here.');
  return claims;
}

export async function endSessionRequest(
  p: Record<string, string>,
  deps: {
    store: TenantStore;
    clients: ClientRepository;
    signer: Signer;
    issuer: string;
    delivery?: LogoutDelivery;
    cookies: Record<string, string>;
    secure: boolean;
    confirmed: boolean;
    /** The request's address and user agent, for the audit event. */
    from?: { sourceIp: string; userAgent: string };
  },
): Promise<EndSessionOutcome> {
  const hint = p.id_token_hint ? await hintClaims(p.id_token_hint, deps.signer, deps.issuer) : undefined;
  if (hint && p.client_id && p.client_id !== hint.aud) {
    throw new PageError(400, 'invalid_request', 'client_id does not match the id_token_hint.');
  }
  const clientId = hint?.aud ?? p.client_id;
  let client: Client | undefined;
  if (clientId) {
    client = await deps.clients.get(clientId);
    if (!client)
      throw new PageError(400, 'invalid_client', 'The application that sent you here is not registered.');
  }
  const redirect = p.post_logout_redirect_uri;
  if (redirect !== undefined) {
    if (!client)
      throw new PageError(
        400,
        'invalid_request',
        'post_logout_redirect_uri needs id_token_hint or client_id.',
      );
    if (!client.post_logout_redirect_uris.includes(redirect)) {
      throw new PageError(
        400,
        'invalid_request',
        'The post_logout_redirect_uri is not registered for this application.',
      );
    }
  }
  const clear = sessionCookie('', deps.secure, 0);
  const done = (): EndSessionOutcome => {
    if (!redirect) return { kind: 'signed-out', clearCookie: clear };
    const url = new URL(redirect);
    if (p.state !== undefined) url.searchParams.set('state', p.state);
    return { kind: 'redirect', location: url.toString(), clearCookie: clear };
  };

  const accounts = await loadAccounts(deps.store, deps.cookies);
  if (!accounts.length) return done();
  const cookieValue = deps.cookies[SESSION_COOKIE]!;
  // With several accounts on the browser, the hint names the one to end (its `sub`, and its `sid`
  // when the ID token carries one); confirming without a hint ends them all.
  const named =
    hint === undefined
      ? undefined
      : accounts.find((a) => a.userId === hint.sub && (!hint.sid || hint.sid === a.sid));
  const confirmed = deps.confirmed && constantTimeEqual(p.logout_csrf ?? '', logoutCsrf(cookieValue));
  if (named || confirmed) {
    const { ended, remaining } = await endSession(deps.store, deps.cookies, named?.sid);
    for (const account of ended)
      await recordAudit(
        deps.store,
        { type: 'session.ended', detail: { userId: account.userId, reason: 'logout' } },
        { actor: { kind: 'user', id: account.userId }, ...deps.from },
      );
    // Back-Channel Logout 1.0 §2.5: the relying parties of the ended accounts are told before the answer.
    if (ended.length) await notifyLogout(ended, deps);
    const outcome = done();
    // The cookie stays while other accounts are still signed in on this browser.
    if (remaining && 'clearCookie' in outcome) delete outcome.clearCookie;
    return outcome;
  }
  const { logout_csrf: _csrf, ...params } = p;
  return { kind: 'confirm', csrf: logoutCsrf(cookieValue), params };
}
