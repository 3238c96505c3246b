/**
 * SMS pumping protection on the local server's own table (DynamoDB Local) and outbox: the caps
 * per source address, per number, per user and per tenant, the country list, and a 30-way race on
 * the per-number cap. The service is driven directly so that each case can come from many users
 * and addresses; test/http/sms-codes.test.ts drives the same service through the pages and the API.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMobile, type MobileNumber } from '../../functions/authenticators/phone.js';
import { rateKey } from '../../functions/authenticators/rate-limit.js';
import { SENT_CODE_MAX_ATTEMPTS } from '../../functions/authenticators/sent-codes.js';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { SMS_SEND_LIMITS } from '../../functions/authenticators/sms-guard.js';
import type { AuthenticatorService } from '../../functions/authenticators/types.js';
import { snapshot } from '../../functions/metrics.js';
import { servicesFor } from '../../functions/services.js';
import { newUserId } from '../support/flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { nzMobile, smsOutbox, textedCode, textsTo } from '../support/sms.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const ALLOWED = ['NZ'];

/** A fresh tenant's authenticator service and store, texting to the local outbox. */
async function tenant() {
  const t = await server.tenant();
  const services = await servicesFor('us');
  const store = services.tenants.scoped(t.id);
  const auth = createAuthenticatorService(store, {
    mailer: services.mailer,
    texter: await smsOutbox(),
    secretBox: services.secretBox,
    rpId: new URL(t.origin).hostname,
    rpName: t.slug,
    origin: t.origin,
  });
  return { auth, store };
}

const mobile = (e164: string): MobileNumber => {
  const parsed = parseMobile(e164);
  if (typeof parsed === 'string') throw new Error(`${e164}: ${parsed}`);
  return parsed;
};

/** One enrolment send: `userId` asks for a code to `to` from `ip`. */
const send = (auth: AuthenticatorService, userId: string, to: string, ip: string, allowed = ALLOWED) =>
  auth.sendSmsCode(userId, {
    key: randomUUID(),
    ip,
    to: mobile(to),
    allowedCountries: allowed,
    tenantName: 'Acme',
  });

const refusals = (reason: string) => snapshot()[`metric:SmsRefused:${reason}`] ?? 0;

describe('SMS pumping protection', () => {
  it('one source address texting many numbers stops at the per-address cap', async () => {
    const { auth } = await tenant();
    const numbers = Array.from({ length: SMS_SEND_LIMITS.perIp.max + 3 }, nzMobile);
    const before = refusals('cap_ip');
    const results = [];
    for (const n of numbers) results.push(await send(auth, newUserId(), n, '203.0.113.7'));
    expect(results.filter((r) => r.sent)).toHaveLength(SMS_SEND_LIMITS.perIp.max);
    const refused = results.filter((r) => !r.sent);
    expect(refused).toHaveLength(3);
    for (const r of refused) expect(r).toMatchObject({ reason: 'rate_limited', refusal: 'cap_ip' });
    expect(refused[0]!.retryAfter).toBeGreaterThan(0);
    for (const n of numbers.slice(SMS_SEND_LIMITS.perIp.max)) expect(await textsTo(n)).toHaveLength(0);
    expect(refusals('cap_ip') - before).toBe(3);
  });

  it('one number asked for by many users from many addresses stops at the per-number cap', async () => {
    const { auth } = await tenant();
    const number = nzMobile();
    const results = [];
    for (let i = 0; i < SMS_SEND_LIMITS.perNumber.max + 4; i++)
      results.push(await send(auth, newUserId(), number, `198.51.100.${i + 1}`));
    expect(results.filter((r) => r.sent)).toHaveLength(SMS_SEND_LIMITS.perNumber.max);
    expect(results.at(-1)).toMatchObject({ sent: false, refusal: 'cap_number' });
    expect(await textsTo(number)).toHaveLength(SMS_SEND_LIMITS.perNumber.max);
  });

  it('thirty parallel sends to one number never text it more than the per-number cap', async () => {
    const { auth } = await tenant();
    const number = nzMobile();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => send(auth, newUserId(), number, `192.0.2.${i + 1}`)),
    );
    expect(results.filter((r) => r.sent)).toHaveLength(SMS_SEND_LIMITS.perNumber.max);
    expect(results.filter((r) => !r.sent).every((r) => r.refusal === 'cap_number')).toBe(true);
    expect(await textsTo(number)).toHaveLength(SMS_SEND_LIMITS.perNumber.max);
  });

  it('one user stops at the per-user cap, whatever numbers and addresses', async () => {
    const { auth } = await tenant();
    const userId = newUserId();
    const results = [];
    for (let i = 0; i < SMS_SEND_LIMITS.perUser.max + 2; i++)
      results.push(await send(auth, userId, nzMobile(), `198.51.100.${i + 1}`));
    expect(results.filter((r) => r.sent)).toHaveLength(SMS_SEND_LIMITS.perUser.max);
    expect(results.at(-1)).toMatchObject({ sent: false, refusal: 'cap_user' });
  });

  it('the tenant stops at its daily cap', async () => {
    const { auth, store } = await tenant();
    // The cap is 1,000 a day: the day's counter is set just below it rather than sent 999 times.
    const now = Math.floor(Date.now() / 1000);
    const window = Math.floor(now / SMS_SEND_LIMITS.perTenant.windowSeconds);
    await store.put(rateKey('sms-tenant', 'all', window), {
      count: SMS_SEND_LIMITS.perTenant.max - 1,
      expiresAt: (window + 1) * SMS_SEND_LIMITS.perTenant.windowSeconds,
    });
    const last = await send(auth, newUserId(), nzMobile(), '198.51.100.1');
    expect(last.sent).toBe(true);
    const number = nzMobile();
    const over = await send(auth, newUserId(), number, '198.51.100.2');
    expect(over).toMatchObject({ sent: false, reason: 'rate_limited', refusal: 'cap_tenant' });
    expect(await textsTo(number)).toHaveLength(0);
  });

  it('a number outside the allowed countries is refused before any cap is spent; no countries, no SMS', async () => {
    const { auth } = await tenant();
    const au = '+61412345678';
    const before = refusals('country_not_allowed');
    expect(await send(auth, newUserId(), au, '198.51.100.1')).toMatchObject({
      sent: false,
      reason: 'refused',
      refusal: 'country_not_allowed',
    });
    expect(await send(auth, newUserId(), nzMobile(), '198.51.100.1', [])).toMatchObject({
      refusal: 'country_not_allowed',
    });
    expect(refusals('country_not_allowed') - before).toBe(2);
    expect(await textsTo(au)).toHaveLength(0);
  });

  it('premium-rate, fixed-line and malformed numbers never parse as mobile numbers', () => {
    expect(parseMobile('+1 900 555 1234')).toBe('not_mobile');
    expect(parseMobile('+44 20 7123 4567')).toBe('not_mobile');
    expect(parseMobile('+64 9 123 4567')).toBe('not_mobile');
    expect(parseMobile('0211234567')).toBe('invalid');
    expect(parseMobile('+64 21 123 4567 ext 9')).toBe('invalid');
    expect(parseMobile('+'.padEnd(40, '1'))).toBe('invalid');
  });
});

describe('texted codes are checked like emailed codes', () => {
  it('a code dies after the same number of wrong guesses, and works once', async () => {
    const { auth } = await tenant();
    const userId = newUserId();
    const number = nzMobile();
    const key = randomUUID();
    const o = { key, ip: '198.51.100.9', to: mobile(number), allowedCountries: ALLOWED, tenantName: 'Acme' };
    expect((await auth.sendSmsCode(userId, o)).sent).toBe(true);
    const code = await textedCode(number);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < SENT_CODE_MAX_ATTEMPTS; i++)
      expect(await auth.verifySmsCode(userId, { key, code: wrong, ip: '198.51.100.9' })).toMatchObject({
        ok: false,
        reason: 'invalid_code',
      });
    expect(await auth.verifySmsCode(userId, { key, code, ip: '198.51.100.9', enroll: true })).toMatchObject({
      ok: false,
      reason: 'too_many_attempts',
    });

    const again = randomUUID();
    expect((await auth.sendSmsCode(userId, { ...o, key: again })).sent).toBe(true);
    const fresh = await textedCode(number);
    expect(await auth.verifySmsCode(userId, { key: again, code: fresh, enroll: true })).toMatchObject({
      ok: true,
    });
    expect(await auth.verifySmsCode(userId, { key: again, code: fresh })).toMatchObject({
      ok: false,
      reason: 'used',
    });
    // Another user cannot use this user's code, even under the same key.
    expect((await auth.sendSmsCode(userId, { ...o, key: 'k2' })).sent).toBe(true);
    const stolen = await textedCode(number);
    expect(await auth.verifySmsCode(newUserId(), { key: 'k2', code: stolen })).toMatchObject({ ok: false });
  });
});
