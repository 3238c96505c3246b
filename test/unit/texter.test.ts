/**
 * The SMS port's AWS adapter against a local End User Messaging SMS endpoint that checks the SigV4
 * signature, the JSON 1.0 protocol and the target header, as test/unit/mailer.test.ts does for SES
 * (the functions speak AWS over their own JSON client, so there is no SDK client to mock); the AWS
 * SDK's own client, pointed at the same endpoint, is the oracle of the request it must send.
 */
import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsApiError, endpointFor } from '../../functions/aws/json-api.js';
import { readConfig } from '../../functions/config.js';
import { BackendUnavailableError } from '../../functions/errors.js';
import { LocalOutbox } from '../../functions/mail/local-outbox.js';
import { SmsVoiceTexter } from '../../functions/texting/sms-voice-texter.js';
import { AwsFault, TEST_CREDENTIALS, type AwsEndpoint } from '../support/aws-endpoint.js';
import { startSmsVoiceEndpoint } from '../support/sms-voice-endpoint.js';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ORIGIN = 'arn:aws:sms-voice:us-west-2:123456789012:phone-number/phone-0123456789abcdef';

let sms: AwsEndpoint;
beforeAll(async () => {
  sms = await startSmsVoiceEndpoint();
});
afterAll(() => sms.close());
beforeEach(() => {
  sms.calls.length = 0;
  sms.answer = undefined;
});

describe('SmsVoiceTexter', () => {
  it('sends one transactional SendTextMessage from the origination identity through the configuration set', async () => {
    await new SmsVoiceTexter(sms.client(), ORIGIN, 'identity-sms').sendText({
      to: '+64211234567',
      text: '123456 is your Acme code.',
    });
    expect(sms.calls).toEqual([
      {
        operation: 'SendTextMessage',
        input: {
          DestinationPhoneNumber: '+64211234567',
          MessageBody: '123456 is your Acme code.',
          OriginationIdentity: ORIGIN,
          ConfigurationSetName: 'identity-sms',
          MessageType: 'TRANSACTIONAL',
        },
      },
    ]);
  });

  it("sends what the AWS SDK's own client sends for the same message (the SDK as the oracle of the wire format)", async () => {
    const message = { to: '+64211234567', text: '123456 is your Acme code.' };
    await new SmsVoiceTexter(sms.client(), ORIGIN, 'identity-sms').sendText(message);
    // The SDK signs with the same test credentials: the endpoint checks its SigV4 signature too.
    const sdk = new PinpointSMSVoiceV2Client({
      region: 'us-west-2',
      endpoint: sms.url,
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    const answer = await sdk.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: message.to,
        MessageBody: message.text,
        OriginationIdentity: ORIGIN,
        ConfigurationSetName: 'identity-sms',
        MessageType: 'TRANSACTIONAL',
      }),
    );
    expect(answer.MessageId).toEqual(expect.any(String));
    expect(sms.calls).toHaveLength(2);
    expect(sms.calls[0]).toEqual(sms.calls[1]);
  });

  it('leaves the configuration set out when none is configured', async () => {
    await new SmsVoiceTexter(sms.client(), ORIGIN, undefined).sendText({ to: '+12015550123', text: 'x' });
    expect(sms.calls[0]!.input).not.toHaveProperty('ConfigurationSetName');
  });

  it('turns throttling into BackendUnavailableError (a 503); a refused message passes through', async () => {
    const texter = new SmsVoiceTexter(sms.client({ maxAttempts: 1 }), ORIGIN, undefined);
    sms.answer = () => {
      throw new AwsFault('ThrottlingException', 400);
    };
    await expect(texter.sendText({ to: '+12015550123', text: 'x' })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    sms.answer = () => {
      throw new AwsFault('ValidationException', 400);
    };
    const err = await texter.sendText({ to: '+12015550123', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsApiError);
    expect((err as Error).name).toBe('ValidationException');
  });

  it('is reached at sms-voice.<region>.amazonaws.com, or AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2', () => {
    expect(endpointFor('sms-voice', 'eu-west-1', {})).toBe('https://sms-voice.eu-west-1.amazonaws.com');
    expect(
      endpointFor('sms-voice', 'eu-west-1', { AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: 'http://x:1/' }),
    ).toBe('http://x:1');
  });
});

describe('the local outbox as the SMS port', () => {
  it('prints one block and saves {"channel":"sms","to","text"} beside the mail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const printed: string[] = [];
    const outbox = new LocalOutbox({ dir, print: (b) => printed.push(b) });
    await outbox.sendText({ to: '+64211234567', text: '123456 is your code.' });
    await outbox.send({ to: 'a@b.c', subject: 's', text: 't' });
    expect(printed[0]).toContain('SMS to: +64211234567');
    expect(printed[0]).toContain('│ 123456 is your code.');
    expect(outbox.latestText('+64211234567')?.text).toBe('123456 is your code.');
    expect(outbox.latest('a@b.c')?.subject).toBe('s');
    const saved = readdirSync(dir).map(
      (f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>,
    );
    expect(saved).toContainEqual(
      expect.objectContaining({ channel: 'sms', to: '+64211234567', text: '123456 is your code.' }),
    );
  });
});

describe('TEXTER', () => {
  it('is local by default, sms-voice or none when set, and refuses anything else', () => {
    expect(readConfig({}).texter).toBe('local');
    expect(readConfig({ TEXTER: 'sms-voice', SMS_FROM: ORIGIN })).toMatchObject({
      texter: 'sms-voice',
      smsOriginationIdentity: ORIGIN,
    });
    expect(readConfig({ TEXTER: 'none' }).texter).toBe('none');
    expect(() => readConfig({ TEXTER: 'sns' })).toThrow(/TEXTER must be sms-voice, local or none/);
  });
});
