import { AwsApi } from '../aws/json-api.js';
import { SesMailer } from '../mail/ses-mailer.js';
import { REGIONS } from '../regions.js';
import { registerAdapters } from '../services.js';

/**
 * `MAILER=ses` for the Lambda functions of the routes that send mail (the route table gives them
 * `ses:send`): their handler modules import this file, so the SES adapter is in their bundles and
 * in no other. It is a few lines on the shared JSON client (`functions/aws/json-api.ts`).
 */
registerAdapters({
  sesMailer: (cfg, region) => {
    const from = cfg.mailFrom;
    if (!from) throw new Error('MAILER=ses needs MAIL_FROM');
    return new SesMailer(new AwsApi({ service: 'sesv2', region: REGIONS[region].awsRegion }), from);
  },
});
