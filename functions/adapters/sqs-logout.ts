import type { AwsApi } from '../aws/json-api.js';
import type { LogoutDelivery, LogoutJob } from '../oidc/logout-delivery.js';
import { deliveryFailed } from '../oidc/logout-delivery.js';

/** SendMessageBatch takes at most 10 entries (Amazon SQS API Reference, SendMessageBatch). */
const BATCH = 10;

interface BatchResult {
  Successful?: { Id: string }[];
  Failed?: { Id: string; Code?: string; SenderFault?: boolean }[];
}

/**
 * Back-channel logout on AWS: each logout token becomes one SQS message (the job as JSON, the
 * token as it was signed), ten to a `SendMessageBatch`; `jobs/deliver-logout.ts` POSTs them, with
 * SQS's redrive for bounded retries and the dead-letter queue. The logout waits for SQS only,
 * never for a relying party. An entry SQS refuses is logged like a failed delivery.
 */
export function sqsLogoutDelivery(sqs: AwsApi, queueUrl: string): LogoutDelivery {
  return {
    async deliver(jobs: readonly LogoutJob[]) {
      const batches: LogoutJob[][] = [];
      for (let i = 0; i < jobs.length; i += BATCH) batches.push(jobs.slice(i, i + BATCH));
      await Promise.all(
        batches.map(async (batch) => {
          const out = await sqs.call<BatchResult>('SendMessageBatch', {
            QueueUrl: queueUrl,
            Entries: batch.map((job, i) => ({ Id: String(i), MessageBody: JSON.stringify(job) })),
          });
          for (const failed of out.Failed ?? [])
            deliveryFailed(batch[Number(failed.Id)]?.clientId ?? '?', `queue ${failed.Code ?? 'refused'}`);
        }),
      );
    },
  };
}
