/**
 * The SMS port, beside the mail port. Use-cases text through it and never see AWS: AWS End User
 * Messaging SMS on AWS (`sms-voice-texter.ts`), the development outbox locally
 * (`mail/local-outbox.ts`, the same folder as mail).
 */
export interface Text {
  /** E.164, already validated and allowed by the SMS guard (`authenticators/sms-guard.ts`). */
  to: string;
  /** Plain text, one segment where possible: no HTML, no secrets beyond the code itself. */
  text: string;
}

export interface Texter {
  /** Resolves once the message is accepted for delivery; a backend outage throws `BackendUnavailableError`. */
  sendText(text: Text): Promise<void>;
}
