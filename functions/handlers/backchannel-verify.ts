import { tenantHandler } from '../http/handler.js';
import { cibaLinkPage } from '../hosted/ciba-link-page.js';

/**
 * GET /oidc/backchannel/verify?id=… — the link a CIBA request sends the user; it starts the hosted
 * sign-in that approves or denies the request (hosted/ciba-link-page.ts).
 */
export const handler = tenantHandler(cibaLinkPage, { errors: 'page' });
