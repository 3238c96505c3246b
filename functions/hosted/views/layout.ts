import { randomBytes } from 'node:crypto';
import { translator, type Locale, type T } from '../../i18n.js';
import type { Tenant } from '../../tenants/tenant.js';
import { brandPalette } from './brand.js';
import { html, raw, type Html } from './html.js';

/** What every hosted page shows of its tenant and speaks in. */
export interface PageContext {
  t: T;
  locale: Locale;
  tenantName: string;
  brandColor?: string;
}

/** The one way a page context is built: the tenant's name and colour, and the page's language. */
export function pageContext(tenant: Pick<Tenant, 'name' | 'brandColor'>, locale: Locale): PageContext {
  return {
    t: translator(locale),
    locale,
    tenantName: tenant.name,
    ...(tenant.brandColor ? { brandColor: tenant.brandColor } : {}),
  };
}

/** A per-response CSP nonce: the only scripts and styles that run are the ones we wrote into this page. */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/*
 * - focus ring: the text colour (17:1 on white, drawn outside the element), since WCAG 2.2 asks 3:1
 *   of focus indicators (1.4.11) and it is visible on every card whatever the brand colour.
 * - settings table: room between a method and its Remove button; 44px targets like the others.
 * - the card: as much room below its last element as above its first.
 * - TOTP key: wraps between its 4-character groups, never inside one.
 */
const STYLE = (brand: string, onBrand: string) => `
:root{--brand:${brand};--on-brand:${onBrand};--fg:#1a1a1a;--muted:#4b5563;--bg:#f6f7f9;--card:#fff;--err:#b3261e;--ok:#1e6b34}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
header{background:var(--brand);color:var(--on-brand);padding:.9rem 1.25rem;font-weight:600}
main{max-width:28rem;margin:1.5rem auto;padding:0 1rem}
.card{background:var(--card);border-radius:12px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.card>:last-child{margin-bottom:0}
h1{font-size:1.4rem;line-height:1.3;margin:0 0 .75rem}
p{margin:.5rem 0 1rem}
.muted{color:var(--muted)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=email]{width:100%;font-size:1.25rem;padding:.65rem .75rem;border:2px solid #6b7280;border-radius:8px}
input[inputmode=numeric]{letter-spacing:.3em;font-variant-numeric:tabular-nums}
button,.button{display:block;width:100%;min-height:48px;margin:.75rem 0 0;padding:.7rem 1rem;font:inherit;font-weight:600;text-align:center;text-decoration:none;border-radius:8px;border:2px solid var(--brand);background:var(--brand);color:var(--on-brand);cursor:pointer}
.secondary{background:transparent;color:var(--fg);border-color:#6b7280}
.link{background:none;border:none;color:var(--fg);text-decoration:underline;font-weight:400;min-height:44px}
:focus-visible{outline:3px solid var(--fg);outline-offset:2px}
.methods{list-style:none;padding:0;margin:0}
.methods li{margin:.5rem 0}
.methods a,.methods button{display:flex;flex-direction:column;align-items:flex-start;text-align:left}
.methods small{font-weight:400;opacity:.9}
.error{color:var(--err);font-weight:600}
.notice{color:var(--ok);font-weight:600}
.qr{display:block;width:200px;height:200px;margin:1rem auto;background:#fff;padding:8px}
code.secret{display:block;overflow-wrap:anywhere;font-size:1rem;background:#f2f2f2;padding:.5rem;border-radius:6px}
table{width:100%;border-collapse:collapse}td{padding:.5rem 0;border-bottom:1px solid #e5e7eb;vertical-align:middle}
td form{margin:0}td+td{padding-left:.75rem;text-align:right}td button{margin:0;min-height:44px;width:auto;padding:.4rem .8rem}
@media (max-width:480px){main{margin:.75rem auto}.card{padding:1.1rem}}
`;

/**
 * The Content-Security-Policy of a hosted page: only the style and script carrying this page's
 * nonce run, images come from us or inline data (the QR code), and nothing may frame it.
 */
export function pageSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    // No form-action: Chrome applies it to every redirect after a submission, and the last
    // step's redirect goes to the client, which may redirect on anywhere. Forms are ours.
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * Every hosted page: semantic landmarks, a skip link, the tenant's name and colour and a language
 * attribute. The markup only: the edge sends it with `pageSecurityPolicy(nonce)`, whose nonce
 * admits only this page's own style and script.
 */
export function renderPage(ctx: PageContext, title: string, body: Html, nonce: string): string {
  const { brand, onBrand } = brandPalette(ctx.brandColor);
  const doc = html`<!doctype html>
    <html lang="${ctx.locale}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} – ${ctx.tenantName}</title>
        <style nonce="${nonce}">
          ${
            // Our own CSS, so it goes in raw: interpolated as text it would be HTML-escaped, and
            // inside <style> `&quot;Segoe UI&quot;` is not decoded, which drops the whole `font`
            // declaration. The brand colour is checked as #rrggbb by brandPalette.
            raw(STYLE(brand, onBrand))
          }
        </style>
      </head>
      <body>
        <a class="skip" href="#main">${ctx.t('skip_link')}</a>
        <header>${ctx.tenantName}</header>
        <main id="main"><div class="card">${body}</div></main>
      </body>
    </html>`;
  return doc.value;
}
