import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
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

/** The Amazon SES v2 adapter of the mail port (`SendEmail`, simple content, UTF-8). */
export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    /** An SES-verified identity (`MAIL_FROM`), e.g. `Acme <no-reply@id.example.com>`. */
    private readonly from: string,
  ) {}

  async send(mail: Mail): Promise<void> {
    const command = new SendEmailCommand({
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
    });
    try {
      await this.client.send(command);
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      const network = (err as { code?: string }).code;
      if (
        TRANSIENT.has(name) ||
        network === 'ECONNREFUSED' ||
        network === 'ECONNRESET' ||
        network === 'ETIMEDOUT'
      ) {
        throw new BackendUnavailableError(`SES SendEmail unavailable: ${name || network}`, { cause: err });
      }
      throw err;
    }
  }
}
