import { tenantHandler } from '../http/handler.js';
import { upstreamCallback } from '../hosted/upstream.js';

/**
 * GET and POST /oidc/callback/{id} — where an upstream identity provider sends the browser back
 * (the `redirect_uri` registered there): the query (OIDC Core §3.1.2.5), or a form post for
 * providers answering with `response_mode=form_post` (Sign in with Apple).
 */
export const handler = tenantHandler((req, ctx) => upstreamCallback(req, ctx), { errors: 'page' });
