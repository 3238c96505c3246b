import * as z from '../zod.js';
import { CIBA_GRANT, clientDisplayName, type Client } from '../clients/client.js';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import { validate } from '../validate.js';
import { takeRateLimit, type RateLimit } from '../authenticators/rate-limit.js';
import { badRequest, invalidClient, invalidScope, tooManyRequests, unauthorizedClient } from '../errors.js';
import type { Mail, Mailer } from '../mail/mailer.js';
import { pickLocale, translator } from '../i18n.js';
import type { Item, Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Profile } from '../users/profile.js';
import { findUserByLogin, ProfileRepository } from '../users/profile-repository.js';
import { userPk } from '../users/user-records.js';
import {
  checkScope,
  DECOUPLED_TTL_SECONDS,
  decoupledAcrValues,
  DEFAULT_INTERVAL,
  newPendingGrant,
  readPendingGrant,
  redeemPendingGrant,
  stillPending,
  type PendingGrant,
} from './decoupled-grant.js';
import { e164Hint, NO_SMS, reserveCibaText, userByPhone, type CibaSms } from './ciba-sms.js';
import type { TokenEndpointDeps, TokenRequest } from './token-request.js';
import type { TokenResponse } from './tokens.js';

/**
 * Client-Initiated Backchannel Authentication, poll mode (OpenID Connect CIBA Core 1.0), as
 * Transmit Mosaic exposes it: a confidential client names a user (`login_hint`)
 * and gets an `auth_req_id` to poll the token endpoint with. The user is reached by a link to the
 * hosted sign-in, mailed to their profile email (`channel: email`), texted to their verified SMS
 * number (`channel: sms`, ciba-sms.ts) or handed to the client (`channel: link`, e.g. for a QR
 * code). `login_hint` is an email or username, a user id (`login_hint_type: user_id`) or an E.164
 * number (`login_hint_type: phone`, or any hint that is one). The link carries its own random id, never the
 * auth_req_id; only the named user can approve.
 */
export const BINDING_MESSAGE = /^[a-zA-Z0-9-._+/!?#]{1,20}$/;
export const MIN_EXPIRY_SECONDS = 60;

/**
 * Mails one user may receive from CIBA requests: 5 per 10 minutes. A real sign-in needs one, a
 * retry or two after a mistyped amount a few more; beyond that the mails are spam (or an attempt
 * to wear the user down into approving).
 */
export const CIBA_MAILS_PER_USER: RateLimit = { max: 5, windowSeconds: 600 };
/**
 * Mails one client may cause: 100 per hour, a busy call centre's rate; a compromised or careless
 * client cannot turn the tenant's mail domain into a spam source.
 */
export const CIBA_MAILS_PER_CLIENT: RateLimit = { max: 100, windowSeconds: 3600 };
/**
 * The client's own text in the mail replaces the intro line: one short line (a tweet's length)
 * and no links of its own — the mail's one link is ours. Mosaic's 300 characters left room for a
 * whole phishing paragraph.
 */
export const CUSTOM_MESSAGE_MAX = 140;
const LINK_LIKE = /[a-z][a-z0-9+.-]*:\/\/|www\./i;

const requestContextSchema = z.object({
  channel: z.optional(z.enum(['sms', 'email', 'link'])),
  login_hint_type: z.optional(z.enum(['phone', 'email', 'user_id'])),
  custom_message: z.optional(
    z.string().check(
      z.maxLength(CUSTOM_MESSAGE_MAX, `custom_message is at most ${CUSTOM_MESSAGE_MAX} characters`),
      z.refine((m) => !/[\p{Cc}]/u.test(m), 'custom_message is one line of text'),
      z.refine((m) => !LINK_LIKE.test(m), 'custom_message may not contain links'),
    ),
  ),
});
type RequestContext = z.output<typeof requestContextSchema>;

export interface BackchannelResponse {
  auth_req_id: string;
  expires_in: number;
  interval: number;
  /** With `channel: link`: the link the client shows the user (Mosaic). */
  link?: string;
}

interface LinkItem extends Item {
  grantPk: string;
  grantSk: string;
}

/** The link's index item (the hash of its random id) points at the pending grant. */
const linkKey = (id: string): Key => ({ pk: `ciba-link#${sha256(id)}`, sk: 'ciba' });

export const verifyPath = '/oidc/backchannel/verify';

function parseRequestContext(raw: string | undefined): RequestContext {
  if (raw === undefined || raw === '') return {};
  if (raw.length > 2000) throw badRequest('request_context is too long');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badRequest('request_context must be a JSON object (stringified)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('request_context must be a JSON object (stringified)');
  }
  return validate(requestContextSchema, value);
}

function parseExpiry(raw: string | undefined): number {
  if (raw === undefined) return DECOUPLED_TTL_SECONDS;
  if (!/^\d{1,9}$/.test(raw)) throw badRequest('requested_expiry must be a positive integer (seconds)');
  return Math.min(DECOUPLED_TTL_SECONDS, Math.max(MIN_EXPIRY_SECONDS, Number(raw)));
}

// CIBA Core §13: the hint names no user of this tenant.
const unknownUser = () => badRequest('no user matches the login_hint', 'unknown_user_id');

/**
 * The user `login_hint` names: an email or username, a user id (`login_hint_type: user_id`), or
 * the verified SMS number of a user (`login_hint_type: phone`, or a hint that is an E.164 number).
 */
async function resolveLoginHint(
  store: TenantStore,
  hint: string,
  type: RequestContext['login_hint_type'],
): Promise<{ userId: string; profile?: Profile }> {
  if (hint.length > 256 || /\p{Cc}/u.test(hint)) throw unknownUser();
  if (type === 'phone' || (type === undefined && e164Hint(hint))) {
    const userId = await userByPhone(store, hint, unknownUser);
    const profile = await new ProfileRepository(store).get(userId);
    return { userId, ...(profile ? { profile } : {}) };
  }
  if (type === 'user_id') {
    const profile = await new ProfileRepository(store).get(hint);
    if (profile) return { userId: hint, profile };
    // A user known only by their authenticators (enrolled through /init-auth flows) exists too.
    const items = await store.query(userPk(hint));
    if (!items.length) throw unknownUser();
    return { userId: hint };
  }
  const found = await findUserByLogin(store, hint);
  if (!found) throw unknownUser();
  return found;
}

/** The mail with the link, in the user's language. */
export function cibaMail(opts: {
  to: string;
  link: string;
  clientName: string;
  bindingMessage?: string;
  customMessage?: string;
  minutes: number;
  locale?: string;
}): Mail {
  const t = translator(pickLocale(opts.locale, undefined));
  // Names and the client's text go into a header or a line: no control characters.
  const oneLine = (s: string) => s.replace(/\p{Cc}+/gu, ' ').trim();
  const client = oneLine(opts.clientName);
  const intro = opts.customMessage ? oneLine(opts.customMessage) : t('ciba_mail_intro');
  const binding = opts.bindingMessage ? t('ciba_mail_binding', { message: opts.bindingMessage }) : '';
  const outro = t('ciba_mail_outro', { minutes: opts.minutes, client });
  const esc = (s: string) =>
    s.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
    );
  return {
    to: opts.to,
    subject: t('ciba_mail_subject', { client }),
    text: `${intro}\n\n${opts.link}\n\n${binding ? `${binding}\n\n` : ''}${outro}\n`,
    html:
      `<!doctype html><html><body style="font-family:system-ui,sans-serif">` +
      `<p>${esc(intro)}</p><p><a href="${esc(opts.link)}">${esc(opts.link)}</a></p>` +
      (binding ? `<p><strong>${esc(binding)}</strong></p>` : '') +
      `<p>${esc(outro)}</p></body></html>`,
  };
}

/** Stores a pending grant and its link's index item together; returns the link's random id. */
async function storeWithLink(store: TenantStore, pending: { key: Key; item: PendingGrant }): Promise<string> {
  const linkId = randomSecret();
  await store.transact([
    { put: { key: pending.key, item: { ...pending.item }, ifAbsent: true } },
    {
      put: {
        key: linkKey(linkId),
        item: { grantPk: pending.key.pk, grantSk: pending.key.sk, expiresAt: pending.item.deadline },
        ifAbsent: true,
      },
    },
  ]);
  return linkId;
}

/**
 * Takes one mail from the user's and the client's allowances before anything is stored or sent
 * (counted atomically, so parallel requests cannot share one). CIBA Core §13 has no code for a
 * limit; `access_denied` ("the OpenID Provider denied the request") is the one that fits, with
 * RFC 6585's 429 and Retry-After so the client knows the refusal is temporary (`slow_down` is the
 * token endpoint's polling error, CIBA Core §11, not this endpoint's).
 */
async function takeMailAllowance(
  store: TenantStore,
  userId: string,
  clientId: string,
  now: number,
): Promise<void> {
  const seconds = Math.floor(now / 1000);
  const retryAfter =
    (await takeRateLimit(store, 'ciba-mail-user', userId, CIBA_MAILS_PER_USER, seconds)) ??
    (await takeRateLimit(store, 'ciba-mail-client', clientId, CIBA_MAILS_PER_CLIENT, seconds));
  if (retryAfter !== undefined) {
    throw tooManyRequests(retryAfter, 'too many sign-in mails: try again later', 'access_denied');
  }
}

/** `POST /oidc/backchannel` (CIBA Core §7.1) for an authenticated client. */
export async function backchannelAuthentication(
  form: Record<string, string>,
  client: Client,
  ctx: { store: TenantStore; origin: string; mailer: Mailer; sms?: CibaSms },
  now = Date.now(),
): Promise<BackchannelResponse> {
  // CIBA Core §7.1: the client authenticates; a public client cannot.
  if (client.client_type !== 'confidential') {
    throw invalidClient('backchannel authentication is for confidential clients that authenticate');
  }
  if (!client.grant_types.includes(CIBA_GRANT)) {
    throw unauthorizedClient('this client may not use the CIBA grant');
  }
  if (form.scope === undefined) throw badRequest('scope is required');
  const scope = checkScope(form.scope, client);
  if (!scope.split(' ').includes('openid')) {
    throw invalidScope('scope must include openid (CIBA Core §7.1)');
  }
  if (form.login_hint_token !== undefined || form.id_token_hint !== undefined) {
    throw badRequest('only login_hint is supported (not login_hint_token or id_token_hint)');
  }
  const hint = form.login_hint?.trim();
  if (!hint) throw badRequest('login_hint is required');
  const bindingMessage = form.binding_message;
  if (bindingMessage !== undefined && !BINDING_MESSAGE.test(bindingMessage)) {
    throw badRequest(
      'binding_message must be 1 to 20 letters, digits or -._+/!?#',
      'invalid_binding_message',
    );
  }
  const expiresIn = parseExpiry(form.requested_expiry);
  const context = parseRequestContext(form.request_context);
  const channel = context.channel ?? 'email';

  const user = await resolveLoginHint(ctx.store, hint, context.login_hint_type);
  const email = user.profile?.email;
  if (channel === 'email' && !email) {
    throw badRequest('the user has no email address: use the "link" channel');
  }

  // The same per-user and per-client allowance for a text as for a mail: either reaches the user.
  if (channel !== 'link') await takeMailAllowance(ctx.store, user.userId, client.client_id, now);
  // The number and the SMS guard are checked before anything is stored, like the allowance above.
  const text =
    channel === 'sms' ? await reserveCibaText(ctx.store, ctx.sms ?? NO_SMS, user.userId, now) : undefined;

  const pending = newPendingGrant(
    {
      kind: 'ciba',
      clientId: client.client_id,
      scope,
      expiresIn,
      expectedUserId: user.userId,
      ...(bindingMessage ? { bindingMessage } : {}),
      acrValues: decoupledAcrValues(form),
    },
    now,
  );
  const linkId = await storeWithLink(ctx.store, pending);
  const link = `${ctx.origin}${verifyPath}?id=${linkId}`;
  // What the mail or the text says besides the link: who asks, and what the user should see.
  const about = {
    link,
    clientName: clientDisplayName(client),
    ...(bindingMessage ? { bindingMessage } : {}),
    ...(user.profile?.locale ? { locale: user.profile.locale } : {}),
  };
  if (channel === 'email') {
    const custom = context.custom_message ? { customMessage: context.custom_message } : {};
    await ctx.mailer.send(cibaMail({ to: email!, minutes: Math.round(expiresIn / 60), ...about, ...custom }));
  }
  if (text) await text(about);
  return {
    auth_req_id: pending.secret,
    expires_in: expiresIn,
    interval: DEFAULT_INTERVAL,
    ...(channel === 'link' ? { link } : {}),
  };
}

/** The pending CIBA grant a link stands for, while the user can still approve it. */
export async function findByLinkId(
  store: TenantStore,
  id: string | null,
): Promise<{ key: Key; grant: PendingGrant } | undefined> {
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const index = await store.get<LinkItem>(linkKey(id));
  if (!index) return undefined;
  const key = { pk: index.grantPk, sk: index.grantSk };
  const grant = await readPendingGrant(store, key, 'ciba');
  return stillPending(grant) ? { key, grant } : undefined;
}

/**
 * The token endpoint's `urn:openid:params:grant-type:ciba` grant (CIBA Core §10.1), for a
 * confidential client the token endpoint has already allowed the grant.
 */
export async function cibaGrant(
  { form, resources }: TokenRequest,
  client: Client,
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  const authReqId = form.auth_req_id;
  if (!authReqId) throw badRequest('auth_req_id is required');
  return redeemPendingGrant('ciba', authReqId, client, resources, deps);
}
