import { AwsApi } from '../aws/json-api.js';
import { REGIONS } from '../regions.js';
import { registerAdapters } from '../services.js';
import { SmsVoiceTexter } from '../texting/sms-voice-texter.js';

/**
 * `TEXTER=sms-voice` for the Lambda functions of the routes that send SMS (the route table gives
 * them `sms:send`): their handler modules import this file, so the adapter is in their bundles
 * and in no other.
 */
registerAdapters({
  smsTexter: (cfg, region) => {
    if (!cfg.smsOriginationIdentity) throw new Error('TEXTER=sms-voice needs SMS_FROM');
    return new SmsVoiceTexter(
      new AwsApi({ service: 'sms-voice', region: REGIONS[region].awsRegion }),
      cfg.smsOriginationIdentity,
      cfg.smsConfigurationSet,
    );
  },
});
