/**
 * CIBA cannot be used to flood a user's mailbox or to send a client's own text (issue 9, item 15):
 * mails are limited per user and per client, a request over the limit is refused before anything
 * is stored or sent (429 access_denied with Retry-After), and the client's custom_message is short,
 * one line and link-free. Written as a script against the endpoint would run: many requests, in
 * parallel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIBA_MAILS_PER_CLIENT, CIBA_MAILS_PER_USER, CUSTOM_MESSAGE_MAX } from '../../functions/oidc/ciba.js';
import { body, type TestTenant } from '../support/flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { CIBA_GRANT, newUser, outbox, postAs, registerApp, type App } from '../support/decoupled-grants.js';

let server: TestServer;
let t: TestTenant;
let bank: App;

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  bank = await registerApp(t, { client_name: 'Bank', grant_types: [CIBA_GRANT], scope: 'openid' });
}, 60_000);

afterAll(async () => {
  await server.stop();
});

const backchannel = (app: App, form: Record<string, string>) =>
  postAs(t, app, '/backchannel', { scope: 'openid', ...form });

const mailsTo = async (to: string) => (await outbox()).messages.filter((m) => m.to === to).length;

describe('CIBA mail limits', () => {
  it(`sends at most ${CIBA_MAILS_PER_USER.max} mails to one user, even to 30 parallel requests`, async () => {
    const user = await newUser(t);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => backchannel(bank, { login_hint: user.email })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(CIBA_MAILS_PER_USER.max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - CIBA_MAILS_PER_USER.max);
    expect(await mailsTo(user.email)).toBe(CIBA_MAILS_PER_USER.max);

    const refused = results.find((r) => r.status === 429)!;
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(CIBA_MAILS_PER_USER.windowSeconds);
    const json = await body(refused);
    expect(json.error).toBe('access_denied');
    expect(json.error_description).toMatch(/too many/);

    // Another user is not affected; the link channel sends nothing and is not limited by mails.
    const other = await newUser(t);
    expect((await backchannel(bank, { login_hint: other.email })).status).toBe(200);
    const link = await backchannel(bank, {
      login_hint: user.email,
      request_context: JSON.stringify({ channel: 'link' }),
    });
    expect(link.status).toBe(200);
  });

  it(`sends at most ${CIBA_MAILS_PER_CLIENT.max} mails for one client, whatever the users`, async () => {
    const spammer = await registerApp(t, { client_name: 'Spam', grant_types: [CIBA_GRANT], scope: 'openid' });
    const users = await Promise.all(
      Array.from({ length: CIBA_MAILS_PER_CLIENT.max / 4 + 1 }, () => newUser(t)),
    );
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(
        users.map((u) => backchannel(spammer, { login_hint: u.email }).then((r) => r.status)),
      );
      statuses.push(...results);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(CIBA_MAILS_PER_CLIENT.max);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    // The bank, another client of the same tenant, still reaches a fresh user.
    const fresh = await newUser(t);
    expect((await backchannel(bank, { login_hint: fresh.email })).status).toBe(200);
  }, 60_000);

  it('keeps the client’s custom_message short, on one line and free of links', async () => {
    const user = await newUser(t);
    for (const custom_message of [
      'x'.repeat(CUSTOM_MESSAGE_MAX + 1),
      'Your account is locked, sign in at https://evil.example/login',
      'Visit www.evil.example now',
    ]) {
      const res = await backchannel(bank, {
        login_hint: user.email,
        request_context: JSON.stringify({ custom_message }),
      });
      expect(res.status, custom_message).toBe(400);
      expect((await body(res)).error).toBe('invalid_request');
    }
    expect(await mailsTo(user.email)).toBe(0);
  });
});
