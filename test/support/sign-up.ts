/**
 * Self sign-up over plain HTTP: turning it on for a tenant, reading what the local outbox got,
 * and walking the first screens (address, code) the way a browser or a script does.
 */
import type { Response } from 'undici';
import { expect } from 'vitest';
import { servicesFor } from '../../functions/services.js';
import type { OutboxMessage } from '../../functions/mail/local-outbox.js';
import type { CookieJar } from './cookie-jar.js';
import { docAuth, JSON_TYPE, type TestTenant } from './flow.js';
import { csrfOf, go } from './hosted-login.js';
import { http } from './server.js';

export async function setSignUp(
  t: TestTenant,
  signUp: 'off' | 'email',
  signUpAuthenticator: 'required' | 'optional' = 'required',
): Promise<void> {
  const res = await http(`${t.origin}/v1/settings`, {
    method: 'PATCH',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ signUp, signUpAuthenticator }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Every mail the local outbox holds for an address, oldest first. */
export async function mailsTo(to: string): Promise<OutboxMessage[]> {
  const mailer = (await servicesFor('us')).mailer as unknown as { messages: OutboxMessage[] };
  return mailer.messages.filter((m) => m.to.toLowerCase() === to.toLowerCase());
}

export const codeOf = (mail: OutboxMessage | undefined): string => {
  const code = /\b(\d{6})\b/.exec(mail?.text ?? '')?.[1];
  expect(code, mail?.text).toBeTruthy();
  return code!;
};

export interface SignUpWalk {
  /** The interaction page URL. */
  page: string;
  /** The answer to the address form. */
  sent: Response;
  /** The screen after it. */
  codeScreen: string;
}

/** From the authorization URL to the code screen: open the sign-up, give the address. */
export async function startSignUp(
  t: TestTenant,
  jar: CookieJar,
  authorizationUrl: string,
  email: string,
  from?: string,
): Promise<SignUpWalk> {
  const start = await go(jar, authorizationUrl, { ...(from ? { from } : {}) });
  expect(start.status, await start.clone().text()).toBe(303);
  const page = `${t.origin}${start.headers.get('location')}`;
  const form = await (await go(jar, `${page}?view=signup`, { ...(from ? { from } : {}) })).text();
  const sent = await go(jar, `${page}/signup-email`, {
    form: { csrf: csrfOf(form), email },
    ...(from ? { from } : {}),
  });
  const codeScreen = await (await go(jar, page, { ...(from ? { from } : {}) })).text();
  return { page, sent, codeScreen };
}
