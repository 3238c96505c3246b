import { html, type Html } from './html.js';
import type { ViewContext } from './challenge.js';

/**
 * "Continue with <name>" for each upstream identity provider: one small form per provider, posted
 * with the interaction's CSRF token to the `upstream` step, which sends the browser on.
 */
export function upstreamButtons(v: ViewContext, providers: { id: string; name: string }[]): Html {
  if (!providers.length) return html``;
  return html`<ul class="upstream-providers">${providers.map(
    (p) =>
      html`<li><form method="post" action="/interaction/${v.id}/upstream"><input type="hidden" name="csrf" value="${v.csrf}"><input type="hidden" name="provider" value="${p.id}"><button type="submit" class="secondary">${v.t('continue_with', { name: p.name })}</button></form></li>`,
  )}</ul>`;
}
