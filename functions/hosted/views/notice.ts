import type { T } from '../../i18n.js';
import { html, type Html } from './html.js';

/** A page that only says something: the interaction has ended or expired, the user signed out, … */
export function notice(t: T, titleKey: 'expired_title' | 'closed_title' | 'error_title', text: string): Html {
  return html`<h1>${t(titleKey)}</h1>
    <p>${text}</p>`;
}
