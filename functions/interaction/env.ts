import type { AuthenticatorService } from '../authenticators/types.js';
import type { TenantContext } from '../http/handler.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import type { Html } from '../pages/html.js';
import type { T } from '../i18n.js';
import type { ViewContext } from '../pages/interaction-views.js';
import { page } from '../pages/layout.js';
import type { Interaction } from './interaction.js';

/** Everything one request to the hosted pages works with. */
export interface Env {
  req: HttpRequest;
  ctx: TenantContext;
  ix: Interaction;
  t: T;
  auth: AuthenticatorService;
  nonce: string;
  secure: boolean;
}

export function show(env: Env, title: string, body: Html, status = 200, cookies?: string[]): HttpResponse {
  return page(
    {
      t: env.t,
      locale: env.ix.locale,
      tenantName: env.ctx.tenant.name,
      brandColor: (env.ctx.tenant as { brandColor?: string }).brandColor,
    },
    title,
    body,
    { status, nonce: env.nonce, ...(cookies ? { cookies } : {}) },
  );
}

export const seeOther = (location: string, cookies?: string[]): HttpResponse => ({
  status: 303,
  headers: { location, 'cache-control': 'no-store' },
  ...(cookies ? { cookies } : {}),
});

export const jsonOk = (body: unknown, status = 200): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export function vctx(env: Env): ViewContext {
  return { t: env.t, id: env.ix.id, csrf: env.ix.csrf, nonce: env.nonce };
}

export interface ViewExtra {
  error?: string;
  notice?: string;
  attemptsLeft?: number;
  rateLimited?: number;
  status?: number;
}
