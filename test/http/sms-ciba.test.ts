/**
 * CIBA over SMS: a phone-number `login_hint` (E.164, `login_hint_type: phone` or a bare number)
 * names the user whose verified SMS authenticator holds it, and `channel: sms` texts the link to
 * that number, behind the same SMS guard as the codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, verify, type TestTenant } from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import {
  CIBA_GRANT,
  CookieJar,
  csrfOf,
  go,
  newUser,
  oauthError,
  postAs,
  registerApp,
  type App,
  type User,
} from '../support/decoupled-grants.js';
import {
  allowSmsCountries,
  enrollSmsNumber,
  auditOf,
  nzMobile,
  textedCode,
  textsTo,
} from '../support/sms.js';

let server: TestServer;
let t: TestTenant;
let bank: App;

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  bank = await registerApp(t, {
    client_name: 'Bank Call Centre',
    grant_types: [CIBA_GRANT],
    scope: 'openid profile',
  });
  await allowSmsCountries(t, ['NZ']);
});
afterAll(() => server.stop());

const context = (value: Record<string, string>) => JSON.stringify(value);
const backchannel = (form: Record<string, string>) =>
  postAs(t, bank, '/backchannel', { scope: 'openid', ...form });

/** A user with an authenticator app and a verified SMS number. */
async function smsUser(number = nzMobile()): Promise<User & { number: string }> {
  const user = await newUser(t);
  await enrollSmsNumber(t, user.userId, number);
  return { ...user, number };
}

/** The link in the latest SMS to `number`. */
async function textedLink(number: string): Promise<string> {
  const text = (await textsTo(number)).at(-1)?.text ?? '';
  const link = new RegExp(`${t.origin}/oidc/backchannel/verify\\?id=[A-Za-z0-9_-]{43}`).exec(text)?.[0];
  expect(link, text).toBeTruthy();
  return link!;
}

describe('CIBA with channel sms and a phone login_hint', () => {
  it('texts the link to the hinted number; the user signs in with a texted code and the client gets tokens', async () => {
    const user = await smsUser();
    const res = await backchannel({
      login_hint: user.number.replace(/^\+64(\d\d)/, '+64 $1 '),
      binding_message: 'TX-42',
      request_context: context({ channel: 'sms', login_hint_type: 'phone' }),
    });
    const req = await body<{ auth_req_id: string; link?: string }>(res);
    expect(res.status, JSON.stringify(req)).toBe(200);
    expect(req.link).toBeUndefined();
    const link = await textedLink(user.number);
    expect(link).not.toContain(req.auth_req_id);
    expect((await textsTo(user.number)).at(-1)!.text).toContain('TX-42');

    const jar = new CookieJar();
    const opened = await go(jar, link);
    expect(opened.status).toBe(303);
    const page = `${t.origin}${opened.headers.get('location')}`;
    const sms = await (await go(jar, `${page}?view=sms`)).text();
    expect((await go(jar, `${page}/sms-send`, { form: { csrf: csrfOf(sms) } })).status).toBe(303);
    const code = await textedCode(user.number);
    const passed = await go(jar, `${page}/sms-verify`, { form: { csrf: csrfOf(sms), code } });
    expect(passed.status, await passed.clone().text()).toBe(303);
    const approval = await (await go(jar, page)).text();
    expect(approval).toContain('Bank Call Centre');
    const decided = await go(jar, `${page}/consent`, { form: { csrf: csrfOf(approval), decision: 'allow' } });
    expect(decided.status).toBe(200);

    const tokens = await body<{ id_token: string }>(
      await postAs(t, bank, '/token', { grant_type: CIBA_GRANT, auth_req_id: req.auth_req_id }),
    );
    const { payload } = await verify(t, tokens.id_token, bank.client_id);
    expect(payload.sub).toBe(user.userId);
    expect(payload.amr).toEqual(['sms']);
  });

  it('a bare E.164 login_hint names the number\u2019s user too; an unknown number is the unknown-user error', async () => {
    const user = await smsUser();
    const ok = await backchannel({ login_hint: user.number, request_context: context({ channel: 'link' }) });
    expect(ok.status).toBe(200);
    const unknownNumber = await backchannel({
      login_hint: nzMobile(),
      request_context: context({ channel: 'link', login_hint_type: 'phone' }),
    });
    const unknownEmail = await backchannel({ login_hint: 'nobody@example.com' });
    const a = await oauthError(unknownNumber);
    const b = await oauthError(unknownEmail);
    expect(a).toMatchObject({ status: 400, error: 'unknown_user_id' });
    expect(b).toMatchObject({ status: 400, error: 'unknown_user_id' });
    const malformed = await backchannel({
      login_hint: 'not-a-number',
      request_context: context({ login_hint_type: 'phone' }),
    });
    expect(await oauthError(malformed)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('a removed SMS authenticator frees its number: the hint no longer names anyone', async () => {
    const user = await smsUser();
    const list = await body<{ authenticators: { id: string; type: string }[] }>(
      await http(`${t.origin}/v1/users/${user.userId}`, { headers: { authorization: basic(t.secret) } }),
    );
    const id = list.authenticators.find((a) => a.type === 'SMS')!.id;
    const del = await http(`${t.origin}/v1/users/${user.userId}/authenticators/${id}`, {
      method: 'DELETE',
      headers: { authorization: basic(t.secret) },
    });
    expect(del.status).toBe(204);
    const res = await backchannel({ login_hint: user.number, request_context: context({ channel: 'link' }) });
    expect(await oauthError(res)).toMatchObject({ error: 'unknown_user_id' });
  });

  it('channel sms for a user without an SMS number, or outside the allowed countries, is refused and audited', async () => {
    const plain = await newUser(t);
    const none = await backchannel({ login_hint: plain.email, request_context: context({ channel: 'sms' }) });
    expect(await oauthError(none)).toMatchObject({ status: 400, error: 'invalid_request' });

    const user = await smsUser();
    await allowSmsCountries(t, ['US']);
    try {
      const refused = await backchannel({
        login_hint: user.email,
        request_context: context({ channel: 'sms' }),
      });
      expect(await oauthError(refused)).toMatchObject({ status: 400, error: 'access_denied' });
      expect(await textsTo(user.number)).toHaveLength(0);
      const events = await auditOf(t, 'sms.refused');
      expect(events.map((e) => ({ ...e.detail, actor: e.actor }))).toContainEqual(
        expect.objectContaining({
          userId: user.userId,
          reason: 'country_not_allowed',
          country: 'NZ',
          channel: 'ciba',
          actor: { kind: 'client', id: bank.client_id },
        }),
      );
    } finally {
      await allowSmsCountries(t, ['NZ']);
    }
  });

  it('the per-user CIBA allowance holds for texts as for mails: 429 with Retry-After', async () => {
    const user = await smsUser();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await backchannel({
        login_hint: user.number,
        request_context: context({ channel: 'sms' }),
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.at(-1)).toBe(429);
    expect(await textsTo(user.number)).toHaveLength(5);
  });
});
