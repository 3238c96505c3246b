// This route sends mail and SMS (codes): the SES mailer and the SMS texter are in its bundle.
import '../adapters/ses.js';
import '../adapters/sms-voice.js';
import { parseMobile } from '../authenticators/phone.js';
import { tenantHandler } from '../http/handler.js';
import { interactionStep, renderInteraction } from '../hosted/interaction-page.js';

/**
 * GET /interaction/{id} renders the hosted challenge, enrollment or settings screen;
 * POST /interaction/{id}/{step} acts on it (verify a code, send an email or SMS code, enroll, …).
 * The passkey ceremonies have their own function (interaction-passkey.ts).
 */
export const handler = tenantHandler(
  (req, ctx) =>
    req.method === 'GET'
      ? renderInteraction(req, ctx)
      : interactionStep(req, ctx, { parsePhone: parseMobile }),
  { errors: 'page' },
);
