import { randomUUID } from 'node:crypto';
import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Client } from '../clients/client.js';
import type { ClientRepository } from '../clients/client-repository.js';
import { backchannelUriProblem, isForbiddenAddress } from '../clients/backchannel-uri.js';
import { logger } from '../log.js';
import { count } from '../metrics.js';
import type { EndedSession } from '../sessions/session.js';
import type { Signer } from '../signing/signer.js';

/**
 * OpenID Connect Back-Channel Logout 1.0: when sessions end, every client that got tokens in one
 * of them and registered a `backchannel_logout_uri` receives a logout token, POSTed as a form
 * (§2.5). Deliveries run in parallel, each bounded by a short timeout, and are awaited, so the
 * logout answers after at most about that long whatever the relying parties do: on Lambda, work
 * left running after the response is frozen with the container and may never happen. A failed
 * delivery is logged (client id and reason, nothing about the user) and not retried: §2.8 leaves
 * retrying to the OP, and a relying party that missed one still sees its tokens die (the session's
 * refresh tokens are revoked with it when the user is deleted; its own session expires).
 */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How long one delivery may take, connection included. */
export const DELIVERY_TIMEOUT_MS = 2_000;
/** §2.4 asks for a short-lived token; two minutes covers clock skew at the relying party. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;

export interface LogoutDeps {
  clients: ClientRepository;
  signer: Signer;
  issuer: string;
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
  const jobs = ended.flatMap((session) =>
    [...new Set(session.clients)].map((clientId) => notifyClient(clientId, session, deps)),
  );
  await Promise.allSettled(jobs);
}

async function notifyClient(clientId: string, session: EndedSession, deps: LogoutDeps): Promise<void> {
  try {
    const client = await deps.clients.get(clientId);
    const uri = client?.backchannel_logout_uri;
    if (!client || !uri) return;
    const token = await logoutToken(deps.signer, deps.issuer, client, session);
    const status = await post(uri, `logout_token=${encodeURIComponent(token)}`, deps.timeoutMs);
    // §2.8: 200 (or 204) means the relying party logged the user out.
    if (status === 200 || status === 204) count('backchannelLogout:delivered');
    else fail(clientId, `status ${status}`);
  } catch (err) {
    fail(clientId, (err as { code?: string }).code ?? (err as Error).name);
  }
}

function fail(clientId: string, reason: string): void {
  count('backchannelLogout:failed');
  logger.warn('back-channel logout not delivered', { client_id: clientId, reason });
}

/**
 * Resolves like `dns.lookup` but refuses names that lead to loopback, private or link-local
 * addresses, so the address checked is the address connected to (no DNS rebinding in between).
 */
function guardedLookup(
  hostname: string,
  options: LookupOptions,
  cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, []);
    if (!addresses.length || addresses.some((a) => isForbiddenAddress(a.address)))
      return cb(Object.assign(new Error('forbidden address'), { code: 'EFORBIDDEN' }), []);
    if (options.all) return cb(null, addresses);
    cb(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/**
 * One POST, no redirect followed (node:http never follows one), answered within the timeout or
 * abandoned. Written on node:http rather than fetch because fetch offers no hook between DNS
 * resolution and connecting, where the address must be checked.
 */
function post(uri: string, body: string, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<number> {
  const url = new URL(uri);
  // Checked again at delivery: the URI was stored under the rules of its time.
  const problem = backchannelUriProblem(uri);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (problem || (isIP(host) && isForbiddenAddress(host)))
    return Promise.reject(Object.assign(new Error('forbidden URI'), { code: 'EFORBIDDEN' }));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
        lookup: guardedLookup as never,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (err) => reject(err));
    req.end(body);
  });
}
