import type { HttpResponse } from '../http/request.js';
import type { Locale } from '../i18n.js';
import type { EndSessionOutcome } from '../oidc/end-session.js';
import type { Tenant } from '../tenants/tenant.js';
import { pageResponse, seeOther } from './respond.js';
import { pageContext } from './views/layout.js';
import { logoutConfirm } from './views/logout.js';
import { notice } from './views/notice.js';

/**
 * What the user sees of RP-Initiated Logout 1.0: back to the client's post-logout URI, a page
 * asking them to confirm (§2, when the request does not prove who sent it), or "signed out".
 */
export function logoutPage(
  outcome: EndSessionOutcome,
  tenant: Pick<Tenant, 'name' | 'brandColor'>,
  locale: Locale,
): HttpResponse {
  if (outcome.kind === 'redirect')
    return seeOther(outcome.location, outcome.clearCookie ? [outcome.clearCookie] : []);
  const page = pageContext(tenant, locale);
  const { t } = page;
  if (outcome.kind === 'confirm') {
    const view = logoutConfirm(t, { tenant: tenant.name, csrf: outcome.csrf, params: outcome.params });
    return pageResponse(page, t('logout_title'), view);
  }
  return pageResponse(page, t('signed_out_title'), notice(t, 'closed_title', t('signed_out_text')), {
    ...(outcome.clearCookie ? { cookies: [outcome.clearCookie] } : {}),
  });
}
