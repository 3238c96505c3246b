import { randomUUID } from 'node:crypto';
import { AwsFault, startAwsEndpoint, type AwsEndpoint } from './aws-endpoint.js';

/**
 * A local Amazon SES v2 endpoint: REST-JSON `SendEmail` (`POST /v2/email/outbound-emails`, signed
 * with SigV4 for `ses` in the endpoint's region), which records the mail and answers a MessageId.
 */
export async function startSesEndpoint(region = 'us-west-2'): Promise<AwsEndpoint> {
  return startAwsEndpoint(
    'sesv2',
    'ses',
    region,
    (req) =>
      req.method === 'POST' && req.url === '/v2/email/outbound-emails'
        ? 'SendEmail'
        : `${req.method} ${req.url}`,
    (operation, input) => {
      if (operation !== 'SendEmail') throw new AwsFault('NotFoundException', 404);
      if (!input.FromEmailAddress || !(input.Destination as { ToAddresses?: unknown[] })?.ToAddresses?.length)
        throw new AwsFault('BadRequestException');
      return { MessageId: randomUUID() };
    },
  );
}
