import { tenantHandler } from '../http/handler.js';
import { devicePage } from '../hosted/device-page.js';

/**
 * GET and POST /oidc/device — the verification URI of the device authorization grant (RFC 8628
 * §3.3): the page where the user types the code their device shows (hosted/device-page.ts).
 */
export const handler = tenantHandler(devicePage, { errors: 'page' });
