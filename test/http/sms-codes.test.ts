/**
 * SMS codes end to end on the local server: the management API's pre-verified numbers, the hosted
 * challenge and enrollment with codes read from the local outbox, and the country check at send.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config } from '../../functions/config.js';
import { body, decodeEntities, federatedTenant, newUserId, type TestTenant } from '../support/flow.js';
import {
  claimsOf as claimsAt,
  startChallenge as startChallengeAt,
  type HostedPage,
} from '../support/challenge-page.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import {
  allowSmsCountries,
  enrollSmsNumber,
  auditOf,
  nzMobile,
  textedCode,
  textsTo,
  usMobile,
} from '../support/sms.js';

let server: TestServer;
let t: TestTenant;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  const res = await http(`${t.origin}/v1/actions/challenge`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: basic(t.secret) },
    body: JSON.stringify({ defaultOutcome: 'CHALLENGE' }),
  });
  expect(res.status).toBe(200);
  await allowSmsCountries(t, ['NZ', 'US']);
});
afterAll(() => server.stop());

function enroll(userId: string, payload: unknown): Promise<Response> {
  return http(`${t.origin}/v1/users/${encodeURIComponent(userId)}/authenticators`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(t.secret) },
    body: JSON.stringify(payload),
  });
}

type Page = HostedPage;

const startChallenge = (userId: string) => startChallengeAt(t, userId);

function post(p: Page, step: string, form: Record<string, string>): Promise<Response> {
  return http(`${p.url}/${step}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: p.cookie },
    body: new URLSearchParams({ csrf: p.csrf, ...form }).toString(),
  });
}

const claimsOf = (res: Response) => claimsAt(t, res);

describe('POST /v1/users/{userId}/authenticators {"type":"SMS"}', () => {
  it('enrolls a pre-verified mobile number, normalised and shown masked', async () => {
    const userId = newUserId();
    const res = await enroll(userId, { type: 'SMS', phoneNumber: '+64 21 123 4567' });
    const json = await body<{ authenticator: { type: string; name: string } }>(res);
    expect(res.status, JSON.stringify(json)).toBe(201);
    expect(json.authenticator).toMatchObject({ type: 'SMS', name: '+64 •• ••• 4567' });
    expect(JSON.stringify(json)).not.toContain('1234567');
  });

  it('refuses what is not an E.164 mobile number, with a clear 400', async () => {
    for (const phoneNumber of ['021 123 4567', '+64abc', '+1', '+64 9 123 4567', '+1 900 555 1234']) {
      const res = await enroll(newUserId(), { type: 'SMS', phoneNumber });
      const json = await body<{ error: string; error_description: string }>(res);
      expect(res.status, phoneNumber).toBe(400);
      expect(json.error).toBe('invalid_phone_number');
      expect(json.error_description).toMatch(/E\.164|not a mobile number/);
    }
  });

  it('refuses a number outside the allowed countries and records sms.refused', async () => {
    const userId = newUserId();
    const res = await enroll(userId, { type: 'SMS', phoneNumber: '+61 412 345 678' });
    const json = await body<{ error_description: string }>(res);
    expect(res.status).toBe(400);
    expect(json.error_description).toContain('AU');
    expect(json.error_description).toContain('allowedCountries');
    const events = await auditOf(t, 'sms.refused');
    const mine = events.find((e) => (e.detail as { userId?: string }).userId === userId);
    expect(mine?.detail).toMatchObject({ reason: 'country_not_allowed', country: 'AU' });
    expect(mine?.outcome).toBe('failure');
    expect(JSON.stringify(mine)).not.toContain('412345678');
  });

  it('a number belongs to one user of the tenant: another user gets 409, the same user the same authenticator', async () => {
    const number = nzMobile();
    const first = await body<{ authenticator: { id: string } }>(
      await enroll('sms-owner-' + newUserId(), { type: 'SMS', phoneNumber: number }),
    );
    const other = await enroll(newUserId(), { type: 'SMS', phoneNumber: number });
    expect(other.status).toBe(409);
    expect((await body<{ error: string }>(other)).error).toBe('phone_number_taken');
    expect(first.authenticator.id).toBeTruthy();
  });
});

describe('hosted SMS challenge', () => {
  it('texts a code to the enrolled number (outbox JSON with channel sms) and the right code passes with amr sms', async () => {
    const userId = newUserId();
    const number = usMobile();
    expect((await enroll(userId, { type: 'SMS', phoneNumber: number })).status).toBe(201);
    const page = await startChallenge(userId);
    expect(page.html).toContain('/sms-send"');
    const sent = await post(page, 'sms-send', {});
    expect(sent.status).toBe(303);
    const screen = await (await http(`${page.url}?view=sms`, { headers: { cookie: page.cookie } })).text();
    expect(decodeEntities(screen)).toContain(`We texted a code to +1 ••• ••• ${number.slice(-4)}.`);
    const code = await textedCode(number);
    const texts = await textsTo(number);
    expect(texts.at(-1)!.text).toContain(`@${new URL(t.origin).hostname} #${code}`);

    const files = readdirSync(config().localOutboxDir).filter((f) => f.endsWith(`${texts.at(-1)!.id}.json`));
    expect(files).toHaveLength(1);
    const saved = JSON.parse(readFileSync(join(config().localOutboxDir, files[0]!), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(saved).toMatchObject({ channel: 'sms', to: number, text: texts.at(-1)!.text });

    const wrong = await post(page, 'sms-verify', { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    const claims = await claimsOf(await post(page, 'sms-verify', { code }));
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.amr).toEqual(['sms']);
    // One-time: the same code again on a new challenge does nothing.
    const again = await startChallenge(userId);
    expect((await post(again, 'sms-verify', { code })).status).toBe(400);
  });

  it('refuses to text a number whose country the tenant no longer allows: 400, audited, nothing sent', async () => {
    const other = await federatedTenant(server);
    await allowSmsCountries(other, ['NZ']);
    const put = await http(`${other.origin}/v1/actions/challenge`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: basic(other.secret) },
      body: JSON.stringify({ defaultOutcome: 'CHALLENGE' }),
    });
    expect(put.status).toBe(200);
    const userId = newUserId();
    const number = nzMobile();
    await enrollSmsNumber(other, userId, number);
    await allowSmsCountries(other, ['US']);

    const saved = t;
    t = other;
    try {
      const page = await startChallenge(userId);
      const refused = await post(page, 'sms-send', {});
      expect(refused.status).toBe(400);
      expect(decodeEntities(await refused.text())).toContain('Codes cannot be texted to this number');
      expect(await textsTo(number)).toHaveLength(0);
      const events = await auditOf(other, 'sms.refused');
      expect(events.map((e) => e.detail)).toContainEqual(
        expect.objectContaining({ userId, reason: 'country_not_allowed', channel: 'code' }),
      );
    } finally {
      t = saved;
    }
  });
});

describe('hosted SMS enrollment', () => {
  it('a user with nothing enrolled adds a number with a texted code, and is enrolled', async () => {
    const userId = newUserId();
    const page = await startChallenge(userId);
    expect(page.html).toContain('?view=enroll-sms');
    const number = nzMobile();
    const bad = await post(page, 'enroll-sms-send', { phone: '021 123' });
    expect(bad.status).toBe(400);
    expect(decodeEntities(await bad.text())).toContain('Enter a mobile number with its country code');
    const landline = await post(page, 'enroll-sms-send', { phone: '+64 9 123 4567' });
    expect(landline.status).toBe(400);

    const sent = await post(page, 'enroll-sms-send', { phone: number.replace(/^\+64(\d\d)/, '+64 $1 ') });
    expect(sent.status).toBe(200);
    expect(decodeEntities(await sent.text())).toMatch(/We texted a code to \+64 •• ••• \d{4}/);
    const claims = await claimsOf(await post(page, 'enroll-sms-verify', { code: await textedCode(number) }));
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.is_enrolled).toBe(true);

    const user = await body<{ authenticators: { type: string; name: string }[] }>(
      await http(`${t.origin}/v1/users/${userId}`, { headers: { authorization: basic(t.secret) } }),
    );
    expect(user.authenticators).toEqual([
      expect.objectContaining({ type: 'SMS', name: expect.stringMatching(/^\+64 •• •••/) }),
    ]);
    const enrolled = await auditOf(t, 'authenticator.enrolled');
    expect(enrolled.map((e) => e.detail)).toContainEqual({ userId, method: 'SMS' });
  });

  it('a verified number that is another user\u2019s is not added (after the code proved it)', async () => {
    const number = nzMobile();
    expect((await enroll(newUserId(), { type: 'SMS', phoneNumber: number })).status).toBe(201);
    const page = await startChallenge(newUserId());
    expect((await post(page, 'enroll-sms-send', { phone: number })).status).toBe(200);
    const res = await post(page, 'enroll-sms-verify', { code: await textedCode(number) });
    expect(res.status).toBe(400);
    expect(decodeEntities(await res.text())).toContain('This number cannot be added');
  });
});
