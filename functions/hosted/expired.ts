import type { TenantContext } from '../http/handler.js';
import type { HttpResponse } from '../http/request.js';
import { pageResponse } from './respond.js';
import { pageContext } from './views/layout.js';
import { notice } from './views/notice.js';

/**
 * A missing, finished or foreign interaction, or a callback no sign-in of this browser waits for:
 * the same page whichever it is (so it tells nothing about other people's sign-ins), in the
 * tenant's name and colour. In English: the interaction, which knows the user's language, is not
 * there to ask.
 */
export function expiredPage(ctx: TenantContext): HttpResponse {
  const page = pageContext(ctx.tenant, 'en');
  return pageResponse(
    page,
    page.t('expired_title'),
    notice(page.t, 'expired_title', page.t('expired_text')),
    {
      status: 400,
    },
  );
}
