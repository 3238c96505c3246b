/**
 * The hosted login does not tell who has an account. An attacker's script walks the first screens
 * for four kinds of identifier — a user with an authenticator app, a user with emailed codes, an
 * identifier that matches nobody, a user with no method — with and without `login_hint`, and
 * compares every answer: status, heading, form fields and markup, with the per-request values
 * (interaction id, CSRF token, script nonce, WebAuthn challenge) taken out.
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { decodeEntities, federatedTenant, type TestTenant } from '../support/flow.js';
import { authUrl, csrfOf, go, pageLogin, pageUser, type PageUser } from '../support/hosted-login.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';

const CB = 'https://rp.example.com/cb';
let server: TestServer;
let t: TestTenant;
let app: RegisteredClient;
let kinds: Record<string, string>;
let totpUser: PageUser;
let emailUser: PageUser;

/** The answer without what differs per request anyway. */
async function shape(
  res: Response,
  typed = '\u0000',
): Promise<{ status: number; location: string | null; body: string }> {
  const text = await res.text();
  return {
    status: res.status,
    location:
      res.headers.get('location')?.replace(/\/interaction\/[A-Za-z0-9_-]+/, '/interaction/ID') ?? null,
    body: text
      .replace(/\/interaction\/[A-Za-z0-9_-]+/g, '/interaction/ID')
      .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="CSRF"')
      .replace(/nonce="[^"]*"/g, 'nonce="N"')
      .replace(/"challenge":"[^"]*"/g, '"challenge":"C"')
      .replace(/\\?"csrf\\?":\\?"[^"\\]*\\?"/g, '"csrf":"CSRF"')
      .replaceAll(typed, 'IDENTIFIER'),
  };
}

const heading = (html: string) => decodeEntities(/<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? '');
const fields = (html: string) =>
  [...html.matchAll(/<(input|button)[^>]*>/g)]
    .map((m) => m[0].replace(/name="csrf" value="[^"]*"/, 'name="csrf"'))
    .join('\n');

/** Every screen of the first steps for one identifier, as the attacker sees them. */
async function walk(identifier: string, hint: boolean) {
  const jar = new CookieJar();
  const start = await go(jar, authUrl(t, app.client_id, CB, hint ? { login_hint: identifier } : {}).url);
  const page = `${t.origin}${start.headers.get('location')}`;
  const first = await go(jar, page);
  const firstShape = await shape(first.clone(), identifier);
  const html = await first.text();
  const identify = await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier } });
  const afterIdentify = await shape(identify, identifier);
  const chooser = await go(jar, page);
  const chooserHtml = await chooser.clone().text();
  const screens: Record<string, unknown> = {
    start: await shape(start, identifier),
    first: firstShape,
    afterIdentify,
  };
  screens.chooser = await shape(chooser, identifier);
  for (const view of ['totp', 'email', 'passkey'])
    screens[view] = await shape(await go(jar, `${page}?view=${view}`), identifier);
  const csrf = csrfOf(chooserHtml);
  screens.wrongTotp = await shape(
    await go(jar, `${page}/totp`, { form: { csrf, code: '000000' } }),
    identifier,
  );
  screens.emailSend = await shape(await go(jar, `${page}/email-send`, { form: { csrf } }), identifier);
  screens.emailSent = await shape(await go(jar, `${page}?view=email`), identifier);
  screens.wrongEmail = await shape(
    await go(jar, `${page}/email-verify`, { form: { csrf, code: '000000' } }),
    identifier,
  );
  const options = await go(jar, `${page}/passkey/options`, {
    method: 'POST',
    form: { csrf },
  });
  screens.passkeyOptions = await shape(options, identifier);
  return { screens, chooserHtml };
}

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  app = await registerClient(t, { redirect_uris: [CB], scope: 'openid', first_party: true });
  totpUser = await pageUser(t, { totp: true });
  emailUser = await pageUser(t, { email: true });
  const nobody = await pageUser(t, {});
  // Same first letter and domain as the others: the masked identifier is no tell either.
  kinds = {
    'authenticator app user': totpUser.email,
    'emailed code user': emailUser.email,
    'unknown identifier': `u-${randomBytes(4).toString('hex')}@example.com`,
    'user without methods': nobody.email,
  };
});
afterAll(async () => {
  await server.stop();
});

describe('account enumeration on the hosted login', () => {
  for (const hint of [false, true]) {
    it(`every kind of identifier gets the same answers${hint ? ' (login_hint)' : ''}`, async () => {
      const walks = Object.fromEntries(
        await Promise.all(Object.entries(kinds).map(async ([k, id]) => [k, await walk(id, hint)] as const)),
      );
      const reference = walks['unknown identifier']!;
      expect(heading(reference.chooserHtml)).toBe("Verify it's you");
      // The chooser offers every method to everyone.
      for (const label of ['Passkey', 'Authenticator app', 'Email code'])
        expect(reference.chooserHtml).toContain(label);
      for (const [kind, w] of Object.entries(walks)) {
        expect(heading(w.chooserHtml), kind).toBe(heading(reference.chooserHtml));
        expect(fields(w.chooserHtml), kind).toBe(fields(reference.chooserHtml));
        for (const [screen, answer] of Object.entries(w.screens))
          expect(answer, `${kind}: ${screen}`).toEqual(reference.screens[screen]);
      }
    });
  }

  it('the code-guess lock-out comes alike for every kind of identifier, across sign-ins', async () => {
    // A tenant of its own: the per-address limit (50 failures per tenant) stays out of the way of
    // the 44 guesses here and of the other tests' sign-ins.
    const own = await federatedTenant(server);
    const ownApp = await registerClient(own, { redirect_uris: [CB], scope: 'openid', first_party: true });
    /** Wrong TOTP codes, each in a new sign-in (the interaction's own 5 attempts never run out). */
    async function guesses(identifier: string, n: number): Promise<number[]> {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const jar = new CookieJar();
        const start = await go(jar, authUrl(own, ownApp.client_id, CB).url);
        const page = `${own.origin}${start.headers.get('location')}`;
        const html = await (await go(jar, page)).text();
        await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier } });
        const chooser = await (await go(jar, page)).text();
        const res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(chooser), code: '000000' } });
        statuses.push(res.status);
      }
      return statuses;
    }
    // Fresh identifiers of each kind, so no earlier test's guesses count.
    const fresh = {
      'authenticator app user': (await pageUser(own, { totp: true })).email,
      'emailed code user': (await pageUser(own, { email: true })).email,
      'unknown identifier': `u-${randomBytes(4).toString('hex')}@example.com`,
      'user without methods': (await pageUser(own, {})).email,
    };
    const seen = Object.fromEntries(
      await Promise.all(Object.entries(fresh).map(async ([k, id]) => [k, await guesses(id, 11)] as const)),
    );
    const expected = [...Array(10).fill(400), 429];
    for (const [kind, statuses] of Object.entries(seen)) expect(statuses, kind).toEqual(expected);
  });

  it('the email send limit comes alike for every kind of identifier, across sign-ins', async () => {
    // A tenant of its own, and one source address per kind: only the per-identifier limit
    // (EMAIL_SEND_LIMITS.perUser, 5 per 15 minutes) is in play.
    const own = await federatedTenant(server);
    const ownApp = await registerClient(own, { redirect_uris: [CB], scope: 'openid', first_party: true });
    async function sends(identifier: string, from: string, n: number): Promise<number[]> {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const jar = new CookieJar();
        const start = await go(jar, authUrl(own, ownApp.client_id, CB).url, { from });
        const page = `${own.origin}${start.headers.get('location')}`;
        const html = await (await go(jar, page, { from })).text();
        await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier }, from });
        const chooser = await (await go(jar, page, { from })).text();
        const res = await go(jar, `${page}/email-send`, { form: { csrf: csrfOf(chooser) }, from });
        statuses.push(res.status);
      }
      return statuses;
    }
    const fresh = {
      'authenticator app user': (await pageUser(own, { totp: true })).email,
      'emailed code user': (await pageUser(own, { email: true })).email,
      'unknown identifier': `u-${randomBytes(4).toString('hex')}@example.com`,
      'user without methods': (await pageUser(own, {})).email,
    };
    const seen = Object.fromEntries(
      await Promise.all(
        Object.entries(fresh).map(async ([k, id], i) => [k, await sends(id, `127.0.8.${i + 1}`, 6)] as const),
      ),
    );
    for (const [kind, statuses] of Object.entries(seen))
      expect(statuses, kind).toEqual([303, 303, 303, 303, 303, 429]);
  });

  it('real users still sign in: authenticator app after the uniform chooser, and by emailed code', async () => {
    const viaApp = await pageLogin(t, new CookieJar(), authUrl(t, app.client_id, CB).url, totpUser);
    expect(viaApp.location.searchParams.get('code')).toBeTruthy();
    const jar = new CookieJar();
    const start = await go(jar, authUrl(t, app.client_id, CB, { login_hint: emailUser.email }).url);
    const page = `${t.origin}${start.headers.get('location')}`;
    let html = await (await go(jar, page)).text();
    await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: emailUser.email } });
    html = await (await go(jar, `${page}?view=email`)).text();
    expect((await go(jar, `${page}/email-send`, { form: { csrf: csrfOf(html) } })).status).toBe(303);
    const { servicesFor } = await import('../../functions/services.js');
    const mail = (
      (await servicesFor('us')).mailer as unknown as { latest(to: string): { text: string } | undefined }
    ).latest(emailUser.email);
    const code = /\b(\d{6})\b/.exec(mail!.text)![1]!;
    html = await (await go(jar, page)).text();
    const done = await go(jar, `${page}/email-verify`, { form: { csrf: csrfOf(html), code } });
    expect(done.status).toBe(302);
    expect(new URL(done.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});
