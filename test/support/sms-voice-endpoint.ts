import { randomUUID } from 'node:crypto';
import { AwsFault, startAwsEndpoint, type AwsEndpoint } from './aws-endpoint.js';

/**
 * A local AWS End User Messaging SMS endpoint: JSON 1.0 `PinpointSMSVoiceV2.SendTextMessage`
 * (signed with SigV4 for `sms-voice` in the endpoint's region), which records the message and
 * answers a MessageId, as the service does.
 */
export async function startSmsVoiceEndpoint(region = 'us-west-2'): Promise<AwsEndpoint> {
  return startAwsEndpoint(
    'sms-voice',
    'sms-voice',
    region,
    (req) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const json10 = req.headers['content-type'] === 'application/x-amz-json-1.0';
      return json10 && target.startsWith('PinpointSMSVoiceV2.') ? target.slice(19) : `bad ${target}`;
    },
    (operation, input) => {
      if (operation !== 'SendTextMessage') throw new AwsFault('UnknownOperationException');
      if (typeof input.DestinationPhoneNumber !== 'string' || typeof input.MessageBody !== 'string')
        throw new AwsFault('ValidationException');
      return { MessageId: randomUUID() };
    },
  );
}
