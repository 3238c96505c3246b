/**
 * Self sign-up on the hosted login, over plain HTTP as a browser or a script speaks it: the whole
 * way to tokens, the tenant switch, the same screens for an address that already
 * has an account (and a mail without a code), one user however many sign-ups race for an address,
 * bad input and CSRF, code guessing, and the "not now" of an optional authenticator.
 */
import { randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../functions/audit/events.js';
import { snapshot } from '../../functions/metrics.js';
import { servicesFor } from '../../functions/services.js';
import { findUserByLogin } from '../../functions/users/profile-repository.js';
import { createSignedUpUser } from '../../functions/users/sign-up.js';
import { CookieJar } from '../support/cookie-jar.js';
import { body, decodeEntities, docAuth, federatedTenant, verify, type TestTenant } from '../support/flow.js';
import { authUrl, csrfOf, go, pageUser, redeemCode, userinfo } from '../support/hosted-login.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { codeOf, mailsTo, setSignUp, startSignUp } from '../support/sign-up.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

const CB = 'https://rp.example.com/cb';
let server: TestServer;
let t: TestTenant;
let app: RegisteredClient;
let thirdParty: RegisteredClient;

const newEmail = () => `Su-${randomBytes(5).toString('hex')}@Example.com`;
const heading = (html: string) => decodeEntities(/<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? '');

async function userOf(tenant: TestTenant, email: string) {
  const services = await servicesFor('us');
  return findUserByLogin(services.tenants.scoped(tenant.id), email);
}

/** The answer without what differs per request anyway (ids, tokens, nonces) or per address. */
async function shape(res: Response, email: string) {
  const masked = `${email.slice(0, 1)}•••@${email.split('@')[1]!.toLowerCase()}`;
  return {
    status: res.status,
    location:
      res.headers.get('location')?.replace(/\/interaction\/[A-Za-z0-9_-]+/, '/interaction/ID') ?? null,
    body: (await res.text())
      .replace(/\/interaction\/[A-Za-z0-9_-]+/g, '/interaction/ID')
      .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="CSRF"')
      .replace(/nonce="[^"]*"/g, 'nonce="N"')
      .replaceAll(masked, 'MASKED')
      .replaceAll(email.toLowerCase(), 'EMAIL')
      .replaceAll(email, 'EMAIL'),
  };
}

/** From the code screen to the enrollment chooser with the code the outbox got. */
async function proveCode(jar: CookieJar, page: string, email: string, codeScreen: string) {
  const code = codeOf((await mailsTo(email)).at(-1));
  const res = await go(jar, `${page}/signup-verify`, { form: { csrf: csrfOf(codeScreen), code } });
  expect(res.status, await res.clone().text()).toBe(303);
  return (await go(jar, page)).text();
}

/** Adds an authenticator app on the enrollment chooser; the answer to the confirming code. */
async function enrollTotp(jar: CookieJar, page: string, chooser: string): Promise<Response> {
  const totpPage = await (
    await go(jar, `${page}/enroll-totp-start`, { form: { csrf: csrfOf(chooser) } })
  ).text();
  const secret = /class="secret"[^>]*>([^<]+)</.exec(totpPage)![1]!.replace(/\s+/g, '');
  const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();
  return go(jar, `${page}/enroll-totp`, { form: { csrf: csrfOf(totpPage), code } });
}

async function auditEvents(tenant: TestTenant, query: Record<string, string>): Promise<AuditEvent[]> {
  const since = new Date(Date.now() - 3600_000).toISOString();
  const res = await http(`${tenant.origin}/v1/audit-events?${new URLSearchParams({ since, ...query })}`, {
    headers: { authorization: docAuth(tenant) },
  });
  return (await body<{ events: AuditEvent[] }>(res)).events;
}

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  app = await registerClient(t, { redirect_uris: [CB], scope: 'openid email', first_party: true });
  thirdParty = await registerClient(t, { redirect_uris: [CB], scope: 'openid email', first_party: false });
  await setSignUp(t, 'email', 'required');
});
afterAll(async () => {
  await server.stop();
});

describe('self sign-up', () => {
  it('address, code, authenticator app, consent, tokens: the new user, signed in as by an email code', async () => {
    const email = newEmail();
    const jar = new CookieJar();
    const req = authUrl(t, thirdParty.client_id, CB, { scope: 'openid email' });
    const before = snapshot()['metric:SignUps'] ?? 0;
    const start = await go(jar, req.url);
    const page = `${t.origin}${start.headers.get('location')}`;
    const identify = await (await go(jar, page)).text();
    expect(identify).toContain(`href="/interaction/${page.split('/').at(-1)}?view=signup"`);
    expect(identify).toContain('Create an account');

    const form = await (await go(jar, `${page}?view=signup`)).text();
    expect(heading(form)).toBe('Create an account');
    const sent = await go(jar, `${page}/signup-email`, { form: { csrf: csrfOf(form), email } });
    expect(sent.status).toBe(303);
    const codeScreen = await (await go(jar, page)).text();
    expect(heading(codeScreen)).toBe('Check your email');
    expect(await userOf(t, email), 'no user before the address is proven').toBeUndefined();

    const chooser = await proveCode(jar, page, email, codeScreen);
    const created = await userOf(t, email);
    expect(created?.profile).toMatchObject({
      email: email.replace(/@.*/, '@example.com'),
      email_verified: true,
    });
    // Required: no "not now", and no way round the enrollment.
    expect(chooser).toContain('enroll-totp-start');
    expect(chooser).toContain('?view=enroll-passkey');
    expect(chooser).not.toContain('/skip');
    expect((await go(jar, `${page}/skip`, { form: { csrf: csrfOf(chooser) } })).status).toBe(400);
    expect((await go(jar, `${page}/email-send`, { form: { csrf: csrfOf(chooser) } })).status).toBe(403);
    expect((await go(jar, `${page}/done`, { form: { csrf: csrfOf(chooser) } })).status).toBe(403);

    const enrolled = await enrollTotp(jar, page, chooser);
    expect(enrolled.status, await enrolled.clone().text()).toBe(303);
    const consent = await (await go(jar, page)).text();
    expect(consent).toContain('wants to access your account');
    const back = await go(jar, `${page}/consent`, { form: { csrf: csrfOf(consent), decision: 'allow' } });
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get('location')!);
    expect(location.searchParams.get('state')).toBe(req.state);
    const tokens = await redeemCode(t, thirdParty, location.searchParams.get('code')!, CB, req.verifier);
    const { payload } = await verify(t, tokens.id_token, thirdParty.client_id);
    expect(payload.sub).toBe(created!.userId);
    expect(payload.amr).toEqual(['otp']);
    expect(payload.acr).toBe('urn:identity:acr:single-factor');
    expect(await userinfo(t, tokens.access_token)).toMatchObject({
      sub: created!.userId,
      email_verified: true,
    });

    const user = await body<{ enrolledVerificationMethods: string[] }>(
      await http(`${t.origin}/v1/users/${created!.userId}`, { headers: { authorization: docAuth(t) } }),
    );
    expect(user.enrolledVerificationMethods.sort()).toEqual(['AUTHENTICATOR_APP', 'EMAIL_OTP']);
    const events = await auditEvents(t, { userId: created!.userId });
    expect(events.find((e) => e.type === 'user.created')).toMatchObject({
      actor: { kind: 'user', id: created!.userId },
      detail: { userId: created!.userId, fields: ['email', 'email_verified'] },
    });
    expect(events.map((e) => e.type)).toContain('authenticator.enrolled');
    expect(snapshot()['metric:SignUps']).toBe(before + 1);
  });

  it('the new user signs in again with the address by emailed code', async () => {
    const email = newEmail();
    const jar = new CookieJar();
    const walk = await startSignUp(t, jar, authUrl(t, app.client_id, CB).url, email);
    const chooser = await proveCode(jar, walk.page, email, walk.codeScreen);
    expect((await enrollTotp(jar, walk.page, chooser)).status).toBe(302);
    const again = new CookieJar();
    const start = await go(again, authUrl(t, app.client_id, CB).url);
    const page = `${t.origin}${start.headers.get('location')}`;
    let html = await (await go(again, page)).text();
    await go(again, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: email.toUpperCase() } });
    html = await (await go(again, `${page}?view=email`)).text();
    expect((await go(again, `${page}/email-send`, { form: { csrf: csrfOf(html) } })).status).toBe(303);
    const code = codeOf((await mailsTo(email)).at(-1));
    const done = await go(again, `${page}/email-verify`, { form: { csrf: csrfOf(html), code } });
    expect(done.status).toBe(302);
    expect(new URL(done.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('optional authenticator: "not now" finishes with the emailed code alone', async () => {
    const own = await federatedTenant(server);
    const ownApp = await registerClient(own, { redirect_uris: [CB], scope: 'openid', first_party: true });
    await setSignUp(own, 'email', 'optional');
    const email = newEmail();
    const jar = new CookieJar();
    const req = authUrl(own, ownApp.client_id, CB);
    const walk = await startSignUp(own, jar, req.url, email);
    const chooser = await proveCode(jar, walk.page, email, walk.codeScreen);
    expect(chooser).toContain('/skip');
    const res = await go(jar, `${walk.page}/skip`, { form: { csrf: csrfOf(chooser) } });
    expect(res.status).toBe(302);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const tokens = await redeemCode(own, ownApp, code, CB, req.verifier);
    const { payload } = await verify(own, tokens.id_token, ownApp.client_id);
    expect(payload.sub).toBe((await userOf(own, email))!.userId);
    expect(payload.amr).toEqual(['otp']);
  });

  it('sign-up off: no link, and every sign-up screen and step is a 404', async () => {
    const own = await federatedTenant(server);
    const ownApp = await registerClient(own, { redirect_uris: [CB], scope: 'openid', first_party: true });
    const jar = new CookieJar();
    const start = await go(jar, authUrl(own, ownApp.client_id, CB).url);
    const page = `${own.origin}${start.headers.get('location')}`;
    const identify = await (await go(jar, page)).text();
    expect(identify).toContain('name="identifier"');
    expect(identify).not.toContain('view=signup');
    expect(identify).not.toContain('Create an account');
    const view = await go(jar, `${page}?view=signup`);
    expect(view.status).toBe(404);
    expect(await view.text()).not.toContain('signup-email');
    const csrf = csrfOf(identify);
    const email = newEmail();
    for (const step of ['signup-email', 'signup-verify', 'signup-back'])
      expect((await go(jar, `${page}/${step}`, { form: { csrf, email, code: '123456' } })).status, step).toBe(
        404,
      );
    expect(await mailsTo(email)).toEqual([]);
    expect(await userOf(own, email)).toBeUndefined();
    // Turned off half-way: the code step of a started sign-up refuses too, and no user appears.
    await setSignUp(own, 'email');
    const halfway = new CookieJar();
    const walk = await startSignUp(own, halfway, authUrl(own, ownApp.client_id, CB).url, email);
    expect(walk.sent.status).toBe(303);
    await setSignUp(own, 'off');
    const code = codeOf((await mailsTo(email)).at(-1));
    const late = await go(halfway, `${walk.page}/signup-verify`, {
      form: { csrf: csrfOf(walk.codeScreen), code },
    });
    expect(late.status).toBe(404);
    expect((await go(halfway, walk.page)).status).toBe(404);
    expect(await userOf(own, email)).toBeUndefined();
  });

  it('an address with an account: the same screens, a mail without a code, no second user', async () => {
    const existing = await pageUser(t, { totp: true });
    const fresh = newEmail();
    const walkOf = async (email: string) => {
      const jar = new CookieJar();
      const req = authUrl(t, app.client_id, CB);
      const w = await startSignUp(t, jar, req.url, email);
      const csrf = csrfOf(w.codeScreen);
      const wrong = await go(jar, `${w.page}/signup-verify`, { form: { csrf, code: '000000' } });
      const badFormat = await go(jar, `${w.page}/signup-verify`, { form: { csrf, code: 'abc' } });
      return {
        screens: {
          sent: await shape(w.sent, email),
          code: await shape(new (w.sent.constructor as typeof Response)(w.codeScreen), email),
          wrong: await shape(wrong, email),
          badFormat: await shape(badFormat, email),
        },
      };
    };
    const [taken, fresh1] = await Promise.all([walkOf(existing.email), walkOf(fresh)]);
    expect(taken.screens).toEqual(fresh1.screens);
    expect(taken.screens.wrong.status).toBe(400);

    const mails = await mailsTo(existing.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain('already have');
    expect(mails[0]!.text).toContain('Sign in');
    expect(mails[0]!.text).not.toMatch(/\b\d{6}\b/);
    expect((await mailsTo(fresh)).at(-1)!.text).toMatch(/\b\d{6}\b/);
    expect((await userOf(t, existing.email))?.userId).toBe(existing.userId);
  });

  it('the send limit and the code-guess lock-out come alike for a new and a taken address', async () => {
    // A tenant of its own, one source address per kind: only the per-address limits are in play.
    const own = await federatedTenant(server);
    const ownApp = await registerClient(own, { redirect_uris: [CB], scope: 'openid', first_party: true });
    await setSignUp(own, 'email');
    const kinds = { taken: (await pageUser(own, { totp: true })).email, fresh: newEmail() };
    const run = async (email: string, from: string) => {
      const statuses: number[] = [];
      // Three sign-ups, four wrong codes each: the address's 10 failures come in the third.
      for (let i = 0; i < 3; i++) {
        const jar = new CookieJar();
        const walk = await startSignUp(own, jar, authUrl(own, ownApp.client_id, CB).url, email, from);
        statuses.push(walk.sent.status);
        for (let g = 0; g < 4; g++) {
          const res = await go(jar, `${walk.page}/signup-verify`, {
            form: { csrf: csrfOf(walk.codeScreen), code: '000000' },
            from,
          });
          statuses.push(res.status);
        }
      }
      // Three more sends: the fifth is allowed, the sixth refused.
      for (let i = 0; i < 3; i++)
        statuses.push(
          (await startSignUp(own, new CookieJar(), authUrl(own, ownApp.client_id, CB).url, email, from)).sent
            .status,
        );
      return statuses;
    };
    const [taken, fresh] = await Promise.all([run(kinds.taken, '127.0.6.1'), run(kinds.fresh, '127.0.6.2')]);
    expect(taken).toEqual(fresh);
    expect(fresh).toEqual([
      303, 400, 400, 400, 400, 303, 400, 400, 400, 400, 303, 400, 400, 429, 429, 303, 303, 429,
    ]);
  });

  it('thirty sign-ups racing for one address make one user', async () => {
    const services = await servicesFor('us');
    const store = services.tenants.scoped(t.id);
    const email = newEmail();
    const results = await Promise.all(Array.from({ length: 30 }, () => createSignedUpUser(store, email)));
    const winners = results.filter((r) => r !== 'taken');
    expect(winners).toHaveLength(1);
    expect((await userOf(t, email))?.userId).toBe((winners[0] as { userId: string }).userId);
    // The losers left nothing: no profile under their ids (one user in the tenant has the address).
    const listed = await store.query<{ pk: string }>(`login#email#${email.toLowerCase()}`);
    expect(listed).toHaveLength(1);
  });

  it('five proven sign-ups for one address at once (the send limit allows five): one user, four told it exists', async () => {
    const email = newEmail();
    const walks = [];
    for (let i = 1; i <= 5; i++) {
      const jar = new CookieJar();
      const from = `127.0.7.${10 + i}`;
      const walk = await startSignUp(t, jar, authUrl(t, app.client_id, CB).url, email, from);
      walks.push({ jar, from, walk, code: codeOf((await mailsTo(email)).at(-1)) });
    }
    const answers = await Promise.all(
      walks.map(({ jar, from, walk, code }) =>
        go(jar, `${walk.page}/signup-verify`, { form: { csrf: csrfOf(walk.codeScreen), code }, from }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([303, 409, 409, 409, 409]);
    for (const a of answers.filter((x) => x.status === 409))
      expect(await a.text()).toContain('An account with this email address already exists.');
    // A sixth send for the address within the window is refused, new address or not.
    const sixth = await startSignUp(
      t,
      new CookieJar(),
      authUrl(t, app.client_id, CB).url,
      email,
      '127.0.7.30',
    );
    expect(sixth.sent.status).toBe(429);
    const winner = walks[answers.findIndex((a) => a.status === 303)]!;
    const chooser = await (await go(winner.jar, winner.walk.page, { from: winner.from })).text();
    expect(chooser).toContain('enroll-totp-start');
    expect(await userOf(t, email)).toBeDefined();
  });

  it('bad input and forged forms: clear 4xx pages, nothing sent', async () => {
    const jar = new CookieJar();
    const start = await go(jar, authUrl(t, app.client_id, CB).url);
    const page = `${t.origin}${start.headers.get('location')}`;
    const form = await (await go(jar, `${page}?view=signup`)).text();
    const csrf = csrfOf(form);
    for (const email of ['', 'not-an-address', `${'a'.repeat(250)}@example.com`, 'a@b@c.com']) {
      const res = await go(jar, `${page}/signup-email`, { form: { csrf, email } });
      expect(res.status, email).toBe(400);
      expect(await res.text()).toContain('Enter a valid email address.');
    }
    const email = newEmail();
    expect((await go(jar, `${page}/signup-email`, { form: { csrf: 'forged', email } })).status).toBe(403);
    expect((await go(jar, `${page}/signup-email`, { form: { email } })).status).toBe(403);
    // Another browser (no binding cookie) gets the ended-sign-in page.
    expect((await go(new CookieJar(), `${page}/signup-email`, { form: { csrf, email } })).status).toBe(400);
    // The code step before any address: back to the screen, nothing proven.
    expect((await go(jar, `${page}/signup-verify`, { form: { csrf, code: '123456' } })).status).toBe(303);
    expect(await mailsTo(email)).toEqual([]);
  });

  it('code guessing: five wrong codes end the sign-in, the right one no longer works, no user', async () => {
    const email = newEmail();
    const jar = new CookieJar();
    const walk = await startSignUp(t, jar, authUrl(t, app.client_id, CB).url, email, '127.0.7.3');
    const right = codeOf((await mailsTo(email)).at(-1));
    const wrong = right === '000000' ? '111111' : '000000';
    const csrf = csrfOf(walk.codeScreen);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await go(jar, `${walk.page}/signup-verify`, {
        form: { csrf, code: wrong },
        from: '127.0.7.3',
      });
      statuses.push(res.status);
      if (res.status === 302) expect(res.headers.get('location')).toContain('error=access_denied');
    }
    expect(statuses).toEqual([400, 400, 400, 400, 302]);
    const after = await go(jar, `${walk.page}/signup-verify`, {
      form: { csrf, code: right },
      from: '127.0.7.3',
    });
    expect(after.status).toBe(400);
    expect(await userOf(t, email)).toBeUndefined();
  });
});
