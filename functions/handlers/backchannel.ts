// This route sends mail and SMS (CIBA links): the SES mailer and the SMS texter are in its bundle.
import '../adapters/ses.js';
import '../adapters/sms-voice.js';
import { allowedSmsCountries } from '../authenticators/sms-guard.js';
import { audit } from '../http/audit.js';
import { authenticateClientAt } from '../http/client-auth.js';
import { parseForm } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { backchannelAuthentication } from '../oidc/ciba.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * POST /oidc/backchannel — the CIBA backchannel authentication endpoint (CIBA Core §7, poll mode):
 * a confidential client authenticates as at the token endpoint and names the user; the answer is
 * the `auth_req_id` to poll the token endpoint with (and, with `channel: link`, the link).
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const form = parseForm(req);
    const client = await authenticateClientAt(req, form, ctx, '/backchannel');
    const response = await backchannelAuthentication(form, client, {
      store: ctx.store,
      origin: ctx.origin,
      mailer: ctx.services.mailer,
      sms: {
        texter: ctx.services.texter,
        allowedCountries: allowedSmsCountries(ctx.tenant),
        ip: req.sourceIp,
        refused: (detail) =>
          audit(req, ctx, { kind: 'client', id: client.client_id }).record({
            type: 'sms.refused',
            detail: { ...detail, channel: 'ciba' },
          }),
      },
    });
    return json(200, response, NO_STORE);
  },
  { errors: 'oauth' },
);
