import { toView } from '../authenticators/display.js';
import {
  enrollAuthenticatorSchema,
  MAX_AUTHENTICATOR_PATH_ID as MAX_ID,
} from '../authenticators/enroll-schema.js';
import { authenticatorsFor } from '../authenticators/for-tenant.js';
import { parseMobile } from '../authenticators/phone.js';
import { allowedSmsCountries, smsRefused } from '../authenticators/sms-guard.js';
import type { AuthenticatorService, SmsRefusal } from '../authenticators/types.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { methodNotAllowed } from '../http/errors.js';
import { json, tenantHandler } from '../http/handler.js';
import { parseJson } from '../http/body.js';
import { audit } from '../http/audit.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import type { HttpRequest } from '../http/request.js';
import type { TenantContext } from '../http/handler.js';

function pathParam(req: HttpRequest, name: string): string {
  const value = req.pathParams[name];
  if (!value || value.length > MAX_ID)
    throw badRequest(`the path parameter ${name} must be 1 to ${MAX_ID} characters`);
  return value;
}

/**
 * POST   /v1/users/{userId}/authenticators                    — enroll a pre-verified email or mobile number, or an authenticator app
 * DELETE /v1/users/{userId}/authenticators/{authenticatorId}  — remove one
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const userId = pathParam(req, 'userId');

  if (req.method === 'DELETE' && req.pathParams.authenticatorId !== undefined) {
    const removed = await authenticatorsFor(ctx.store, ctx.services, ctx.tenant, ctx.origin).remove(
      userId,
      pathParam(req, 'authenticatorId'),
    );
    if (!removed) throw notFound('the user has no such authenticator');
    const detail = { userId, authenticatorId: pathParam(req, 'authenticatorId') };
    await audit(req, ctx).record({ type: 'authenticator.removed', detail });
    return { status: 204 };
  }

  if (req.method === 'POST' && req.pathParams.authenticatorId === undefined) {
    const body = parseJson(req, enrollAuthenticatorSchema);
    const authenticators = authenticatorsFor(ctx.store, ctx.services, ctx.tenant, ctx.origin);
    if (body.type === 'EMAIL_OTP') {
      const authenticator = await authenticators.enrollEmail(userId, body.email);
      const detail = { userId, method: 'EMAIL_OTP' as const, authenticatorId: authenticator.id };
      await audit(req, ctx).record({ type: 'authenticator.added', detail });
      return json(201, { authenticator: toView(authenticator) });
    }
    if (body.type === 'SMS') return enrollSms(req, ctx, authenticators, userId, body.phoneNumber);
    // The account label the app shows next to the tenant's name; the secret is shown this once.
    const { authenticator, secret, uri } = await authenticators.createTotp(userId, userId, {
      name: body.name,
    });
    const detail = { userId, method: 'AUTHENTICATOR_APP' as const, authenticatorId: authenticator.id };
    await audit(req, ctx).record({ type: 'authenticator.added', detail });
    return json(201, { authenticator: toView(authenticator), secret, uri }, { 'cache-control': 'no-store' });
  }

  throw methodNotAllowed(req.pathParams.authenticatorId === undefined ? ['POST'] : ['DELETE']);
});

/**
 * A pre-verified mobile number: E.164 and mobile (phone.ts), in one of the tenant's allowed
 * countries (refused like a send would be, and audited alike), and nobody else's.
 */
async function enrollSms(
  req: HttpRequest,
  ctx: TenantContext,
  authenticators: AuthenticatorService,
  userId: string,
  phoneNumber: string,
) {
  const phone = parseMobile(phoneNumber);
  const allowed = allowedSmsCountries(ctx.tenant);
  const refusal: SmsRefusal | undefined =
    typeof phone === 'string' ? phone : allowed.includes(phone.country) ? undefined : 'country_not_allowed';
  if (refusal || typeof phone === 'string') {
    const reason = refusal ?? 'invalid';
    smsRefused(reason);
    const country = typeof phone === 'string' ? undefined : phone.country;
    const detail = { userId, reason, channel: 'code' as const, ...(country ? { country } : {}) };
    await audit(req, ctx).record({ type: 'sms.refused', detail });
    throw badRequest(
      reason === 'invalid'
        ? 'phoneNumber must be an international number in E.164 form, e.g. +64211234567'
        : reason === 'not_mobile'
          ? 'phoneNumber is not a mobile number (fixed-line, premium-rate and other types cannot receive codes)'
          : `phoneNumber is in ${country}, which is not among the tenant's sms.allowedCountries (PATCH /v1/settings)`,
      'invalid_phone_number',
    );
  }
  const authenticator = await authenticators.enrollSms(userId, phone);
  if (authenticator === 'taken')
    throw conflict("this number is another user's SMS authenticator", 'phone_number_taken');
  const detail = { userId, method: 'SMS' as const, authenticatorId: authenticator.id };
  await audit(req, ctx).record({ type: 'authenticator.added', detail });
  return json(201, { authenticator: toView(authenticator) });
}
