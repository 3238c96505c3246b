/**
 * The mail port. Use-cases send through it and never see SES: Amazon SES v2 on AWS
 * (`ses-mailer.ts`), a development outbox locally (`local-outbox.ts`).
 */
export interface Mail {
  to: string;
  subject: string;
  /** Plain text: always sent, the part every client can show. */
  text: string;
  /** An HTML alternative, already escaped by whoever built it. */
  html?: string;
}

export interface Mailer {
  /** Resolves once the mail is accepted for delivery; a backend outage throws `BackendUnavailableError`. */
  send(mail: Mail): Promise<void>;
}
