import type { AwsApi } from '../aws/json-api.js';
import { BackendUnavailableError } from '../errors.js';
import type { Mail, Mailer } from './mailer.js';

/** SES errors that mean "try again later", not "this mail is wrong": answered 503 upstream. */
const TRANSIENT = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'LimitExceededException',
  'SendingPausedException',
  'InternalFailure',
  'ServiceUnavailable',
]);

/**
 * The Amazon SES v2 adapter of the mail port: `SendEmail` (`POST /v2/email/outbound-emails`,
 * SES API v2 reference), simple content, UTF-8. Throttling and 5xx are retried by the client, then
 * answered 503 like the other transient codes above.
 */
export class SesMailer implements Mailer {
  constructor(
    /** An SES v2 client (`functions/aws/json-api.ts`). */
    private readonly client: AwsApi,
    /** An SES-verified identity (`MAIL_FROM`), e.g. `Acme <no-reply@id.example.com>`. */
    private readonly from: string,
  ) {}

  async send(mail: Mail): Promise<void> {
    const input = {
      FromEmailAddress: this.from,
      Destination: { ToAddresses: [mail.to] },
      Content: {
        Simple: {
          Subject: { Data: mail.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: mail.text, Charset: 'UTF-8' },
            ...(mail.html !== undefined ? { Html: { Data: mail.html, Charset: 'UTF-8' } } : {}),
          },
        },
      },
    };
    try {
      await this.client.rest('SendEmail', 'POST', '/v2/email/outbound-emails', input);
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (TRANSIENT.has(name)) {
        throw new BackendUnavailableError(`SES SendEmail unavailable: ${name}`, { cause: err });
      }
      throw err;
    }
  }
}
