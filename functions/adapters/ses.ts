import { REGIONS } from '../regions.js';
import type { Mailer } from '../mail/mailer.js';
import { registerAdapters } from '../services.js';

/**
 * `MAILER=ses` for the Lambda functions of the routes that send mail (the route table gives them
 * `ses:send`): their handler modules import this file, so the SES client is in their bundles and
 * in no other. The client is loaded on the first mail (esbuild keeps a dynamic import in the bundle
 * but evaluates it only then), so a cold start that sends nothing does not pay for it.
 */
registerAdapters({
  sesMailer: (cfg, region) => {
    const from = cfg.mailFrom;
    if (!from) throw new Error('MAILER=ses needs MAIL_FROM');
    let ses: Promise<Mailer> | undefined;
    const load = async (): Promise<Mailer> => {
      const [{ SESv2Client }, { SesMailer }] = await Promise.all([
        import('@aws-sdk/client-sesv2'),
        import('../mail/ses-mailer.js'),
      ]);
      return new SesMailer(new SESv2Client({ region: REGIONS[region].awsRegion, maxAttempts: 3 }), from);
    };
    return {
      send: async (mail) => {
        ses ??= load();
        ses.catch(() => (ses = undefined));
        return (await ses).send(mail);
      },
    };
  },
});
