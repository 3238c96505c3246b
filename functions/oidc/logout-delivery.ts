import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { backchannelUriProblem, isForbiddenAddress } from '../clients/backchannel-uri.js';
import { logger } from '../log.js';
import { count } from '../metrics.js';

/** One logout token for one relying party (Back-Channel Logout 1.0 §2.5). */
export interface LogoutJob {
  clientId: string;
  uri: string;
  logoutToken: string;
}

/**
 * How logout tokens leave: in-process here (the local server, and any deployment without a queue),
 * through a queue on AWS (`adapters/sqs-logout.ts`, consumed by `jobs/deliver-logout.ts`) so a
 * logout never waits on a relying party. `deliver` never throws for a relying party's failure.
 */
export interface LogoutDelivery {
  deliver(jobs: readonly LogoutJob[]): Promise<void>;
}

/** How long one delivery may take, connection included. */
export const DELIVERY_TIMEOUT_MS = 2_000;

/**
 * Deliveries in parallel, each bounded by the timeout, awaited: on Lambda, work left running after
 * the response is frozen with the container and may never happen. A failure is logged and not
 * retried (§2.8 leaves retrying to the OP).
 */
export function inProcessDelivery(timeoutMs = DELIVERY_TIMEOUT_MS): LogoutDelivery {
  return {
    async deliver(jobs) {
      await Promise.allSettled(
        jobs.map(async (job) => {
          const problem = await deliverLogoutToken(job, timeoutMs);
          if (problem) deliveryFailed(job.clientId, problem);
          else count('backchannelLogout:delivered');
        }),
      );
    },
  };
}

/** Counts and logs a failed delivery: client id and reason, nothing about the user. */
export function deliveryFailed(clientId: string, reason: string): void {
  count('backchannelLogout:failed');
  logger.warn('back-channel logout not delivered', { client_id: clientId, reason });
}

/**
 * POSTs one logout token as a form (§2.5); answers why it was not delivered, or undefined when the
 * relying party answered 200 or 204 (§2.8).
 */
export async function deliverLogoutToken(
  job: LogoutJob,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<string | undefined> {
  try {
    const status = await post(job.uri, `logout_token=${encodeURIComponent(job.logoutToken)}`, timeoutMs);
    return status === 200 || status === 204 ? undefined : `status ${status}`;
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).name;
  }
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
function post(uri: string, body: string, timeoutMs: number): Promise<number> {
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
