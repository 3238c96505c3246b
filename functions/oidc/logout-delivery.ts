import { backchannelUriProblem } from '../clients/backchannel-uri.js';
import { guardedRequest } from '../outbound/guarded-fetch.js';
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

/** One POST through the guarded client (no redirect followed, no forbidden address). */
async function post(uri: string, body: string, timeoutMs: number): Promise<number> {
  // Checked again at delivery: the URI was stored under the rules of its time.
  const problem = backchannelUriProblem(uri);
  if (problem) throw Object.assign(new Error('forbidden URI'), { code: 'EFORBIDDEN' });
  const res = await guardedRequest(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    timeoutMs,
    maxBytes: 64 * 1024,
    what: 'a back-channel logout URI',
  });
  return res.status;
}
