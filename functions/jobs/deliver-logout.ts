import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeJwt } from 'jose';
import { logger } from '../log.js';
import { count } from '../metrics.js';
import { deliverLogoutToken, deliveryFailed, type LogoutJob } from '../oidc/logout-delivery.js';
import * as z from '../zod.js';

/**
 * The back-channel logout queue's consumer (not an HTTP route: an SQS event source mapping runs
 * it, lib/logout-delivery.ts). Each message is one logout token for one relying party, sent by
 * `adapters/sqs-logout.ts`; it is POSTed with the same request-forgery checks as in-process
 * delivery (`oidc/logout-delivery.ts`). A failed delivery is reported in `batchItemFailures`
 * (Lambda, "Reporting batch item failures for Amazon SQS"), so only that message comes back after
 * the visibility timeout; after the queue's maxReceiveCount it goes to the dead-letter queue.
 */

/** Nobody waits on this delivery: a slow relying party gets longer than in-process. */
export const QUEUED_DELIVERY_TIMEOUT_MS = 5_000;

const jobSchema = z.object({
  clientId: z.string().check(z.minLength(1)),
  uri: z.string().check(z.minLength(1)),
  logoutToken: z.string().check(z.minLength(1)),
});

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const outcomes = await Promise.all(event.Records.map((record) => deliverRecord(record)));
  return {
    batchItemFailures: event.Records.filter((_, i) => !outcomes[i]).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
}

/** Whether the message is done with (delivered or not worth retrying); false: retry it. */
async function deliverRecord(record: SQSRecord, now = Date.now()): Promise<boolean> {
  const job = parseJob(record.body);
  if (!job) {
    // Not a message this provider sent: retrying cannot make it one.
    logger.error('back-channel logout message dropped: not a logout job', { message_id: record.messageId });
    return true;
  }
  // §2.4: the token is short-lived; once it has expired the relying party must refuse it, so a
  // retry would only repeat a useless request.
  const exp = expiryOf(job.logoutToken);
  if (exp === undefined || exp * 1000 <= now) {
    count('backchannelLogout:expired');
    logger.warn('back-channel logout dropped: the logout token has expired', {
      client_id: job.clientId,
      receive_count: record.attributes.ApproximateReceiveCount,
    });
    return true;
  }
  const problem = await deliverLogoutToken(job, QUEUED_DELIVERY_TIMEOUT_MS);
  if (!problem) {
    count('backchannelLogout:delivered');
    return true;
  }
  deliveryFailed(job.clientId, problem);
  return false;
}

function parseJob(body: string): LogoutJob | undefined {
  try {
    const parsed = z.safeParse(jobSchema, JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function expiryOf(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}
