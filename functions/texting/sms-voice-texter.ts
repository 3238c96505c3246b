import type { AwsApi } from '../aws/json-api.js';
import { BackendUnavailableError } from '../errors.js';
import type { Text, Texter } from './texter.js';

/** End User Messaging SMS errors that mean "try again later", not "this message is wrong": answered 503. */
const TRANSIENT = new Set([
  'ThrottlingException',
  'InternalServerException',
  'ServiceQuotaExceededException',
]);

/**
 * The AWS End User Messaging SMS adapter of the SMS port: `SendTextMessage` of the
 * `PinpointSMSVoiceV2` JSON 1.0 API (AWS End User Messaging SMS API Reference, SendTextMessage),
 * a transactional message from the stack's origination identity through its configuration set
 * (which carries the event destinations and the spend limit). Throttling and 5xx are retried by
 * the client, then answered 503 like the other transient codes above.
 */
export class SmsVoiceTexter implements Texter {
  constructor(
    /** An `sms-voice` client (`functions/aws/json-api.ts`). */
    private readonly client: AwsApi,
    private readonly originationIdentity: string,
    private readonly configurationSet: string | undefined,
  ) {}

  async sendText({ to, text }: Text): Promise<void> {
    const input = {
      DestinationPhoneNumber: to,
      MessageBody: text,
      OriginationIdentity: this.originationIdentity,
      ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
      MessageType: 'TRANSACTIONAL',
    };
    try {
      await this.client.call('SendTextMessage', input);
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (TRANSIENT.has(name)) {
        throw new BackendUnavailableError(`SendTextMessage unavailable: ${name}`, { cause: err });
      }
      throw err;
    }
  }
}
