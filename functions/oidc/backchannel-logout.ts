import { randomUUID } from 'node:crypto';
import type { Client } from '../clients/client.js';
import type { ClientRepository } from '../clients/client-repository.js';
import type { EndedSession } from '../sessions/session.js';
import type { Signer } from '../signing/signer.js';
import { deliveryFailed, inProcessDelivery, type LogoutDelivery, type LogoutJob } from './logout-delivery.js';

/**
 * OpenID Connect Back-Channel Logout 1.0: when sessions end, every client that got tokens in one
 * of them and registered a `backchannel_logout_uri` receives a logout token, POSTed as a form
 * (§2.5). The tokens are signed here and handed to a `LogoutDelivery` (`logout-delivery.ts`): on
 * AWS a queue, whose consumer retries a few times, so the logout never waits on a relying party;
 * locally (and without a queue) in-process, in parallel, each bounded by a short timeout. A
 * relying party that missed one still sees its tokens die (the session's refresh tokens are
 * revoked with it when the user is deleted; its own session expires).
 */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** §2.4 asks for a short-lived token; two minutes covers clock skew at the relying party. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;

export interface LogoutDeps {
  clients: ClientRepository;
  signer: Signer;
  issuer: string;
  /** Where the tokens go; in-process when absent. */
  delivery?: LogoutDelivery;
  /** The in-process delivery's timeout per relying party. */
  timeoutMs?: number;
}

/**
 * The logout token (§2.4): a JWT with `typ: logout+jwt` (§2.4, RFC 8725 §3.11), signed with the
 * tenant's key and the client's ID token algorithm, carrying both `sub` and `sid`, never a `nonce`.
 */
export function logoutToken(
  signer: Signer,
  issuer: string,
  client: Client,
  session: EndedSession,
  now = Date.now(),
): Promise<string> {
  const iat = Math.floor(now / 1000);
  return signer.signJwt(
    {
      iss: issuer,
      aud: client.client_id,
      iat,
      exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
      jti: randomUUID(),
      sub: session.userId,
      sid: session.sid,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    },
    { typ: 'logout+jwt', alg: client.id_token_signed_response_alg },
  );
}

/** Tells every client of the ended sessions; never throws. */
export async function notifyLogout(ended: readonly EndedSession[], deps: LogoutDeps): Promise<void> {
  const jobs = await Promise.all(
    ended.flatMap((session) =>
      [...new Set(session.clients)].map((clientId) => logoutJob(clientId, session, deps)),
    ),
  );
  const ready = jobs.filter((job): job is LogoutJob => job !== undefined);
  if (!ready.length) return;
  try {
    await (deps.delivery ?? inProcessDelivery(deps.timeoutMs)).deliver(ready);
  } catch (err) {
    // The queue refused them (after its client's retries): logged, the logout itself still ends.
    for (const job of ready) deliveryFailed(job.clientId, (err as Error).name);
  }
}

async function logoutJob(
  clientId: string,
  session: EndedSession,
  deps: LogoutDeps,
): Promise<LogoutJob | undefined> {
  try {
    const client = await deps.clients.get(clientId);
    const uri = client?.backchannel_logout_uri;
    if (!client || !uri) return undefined;
    return { clientId, uri, logoutToken: await logoutToken(deps.signer, deps.issuer, client, session) };
  } catch (err) {
    deliveryFailed(clientId, (err as { code?: string }).code ?? (err as Error).name);
    return undefined;
  }
}
