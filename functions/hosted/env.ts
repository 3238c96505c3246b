import type { MobileNumber, PhoneProblem } from '../authenticators/phone.js';
import type { AuthenticatorService } from '../authenticators/types.js';
import { audit, type RequestAudit } from '../http/audit.js';
import type { TenantContext } from '../http/handler.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import type { T } from '../i18n.js';
import type { Interaction } from '../interaction/interaction.js';
import { pageResponse } from './respond.js';
import type { ViewContext } from './views/challenge.js';
import type { Html } from './views/html.js';
import { pageContext } from './views/layout.js';

/** Everything one request to the hosted pages works with. */
export interface Env {
  req: HttpRequest;
  ctx: TenantContext;
  ix: Interaction;
  t: T;
  auth: AuthenticatorService;
  nonce: string;
  secure: boolean;
  /**
   * Phone number parsing (libphonenumber's mobile metadata, about 130 KB): given by the pages'
   * main function, absent in the passkey ceremonies' own, which texts nothing.
   */
  parsePhone?: (input: string) => MobileNumber | PhoneProblem;
}

/** A screen of this interaction, in its language and the tenant's name and colour. */
export function show(env: Env, title: string, body: Html, status = 200): HttpResponse {
  return pageResponse(pageContext(env.ctx.tenant, env.ix.locale), title, body, { status, nonce: env.nonce });
}

export function vctx(env: Env): ViewContext {
  return { t: env.t, id: env.ix.id, csrf: env.ix.csrf, nonce: env.nonce };
}

/** What a screen shows besides its form: an error, a notice, attempts left, a rate limit. */
export interface ViewExtra {
  error?: string;
  notice?: string;
  attemptsLeft?: number;
  rateLimited?: number;
  status?: number;
}

/** Audit events of the hosted pages: the user in the browser is the actor (no id while unknown). */
export const auditOf = (env: Env): RequestAudit =>
  audit(env.req, env.ctx, { kind: 'user', ...(env.ix.userId ? { id: env.ix.userId } : {}) });

/** The detail of a failed sign-in or challenge attempt: who (if known), which client, which method. */
export const failureDetail = (env: Env, final: boolean, method?: string) => ({
  ...(env.ix.userId && !env.ix.login?.ghost ? { userId: env.ix.userId } : {}),
  clientId: env.ix.request.clientId,
  ...(method ? { method } : {}),
  final,
});

/** Where the hosted pages send the browser next (one of this interaction's screens). */
export const screenUrl = (env: Env, query = '') => `/interaction/${env.ix.id}${query}`;
