import type { Mail } from '../mail/mailer.js';
import { SENT_CODE_MINUTES } from './sent-codes.js';

/** Minutes an emailed code stays valid; the messages below say so. */
export const EMAIL_CODE_MINUTES = SENT_CODE_MINUTES;

export type MailLocale = 'en' | 'es';

/** `es-ES`, `es_MX`, `es;q=0.9`, `ES` → `es`; anything unsupported → `en`. */
export function mailLocale(locale: string | undefined): MailLocale {
  const primary = (locale ?? '')
    .trim()
    .toLowerCase()
    .split(/[-_,;\s]/)[0];
  return primary === 'es' ? 'es' : 'en';
}

const TEXTS: Record<
  MailLocale,
  (tenant: string, minutes: number) => { subject: string; intro: string; outro: string }
> = {
  en: (tenant, minutes) => ({
    subject: `Your ${tenant} verification code (expires in ${minutes} minutes)`,
    intro: `Your ${tenant} verification code is:`,
    outro: `It expires in ${minutes} minutes and works once. If you did not ask for it, you can ignore this email.`,
  }),
  es: (tenant, minutes) => ({
    subject: `Tu código de verificación de ${tenant} (caduca en ${minutes} minutos)`,
    intro: `Tu código de verificación de ${tenant} es:`,
    outro: `Caduca en ${minutes} minutos y solo sirve una vez. Si no lo has pedido, puedes ignorar este correo.`,
  }),
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The mail carrying a one-time code, in the user's language (English and Spanish). */
export function emailCodeMail(opts: { to: string; code: string; tenantName: string; locale?: string }): Mail {
  const lang = mailLocale(opts.locale);
  // The tenant name goes into a header: no line breaks, whatever an operator typed.
  const tenant = opts.tenantName.replace(/[\r\n]+/g, ' ').trim();
  const t = TEXTS[lang](tenant, EMAIL_CODE_MINUTES);
  return {
    to: opts.to,
    subject: t.subject,
    text: `${t.intro}\n\n    ${opts.code}\n\n${t.outro}\n`,
    html:
      `<!doctype html><html lang="${lang}"><body style="font-family:system-ui,sans-serif">` +
      `<p>${escapeHtml(t.intro)}</p>` +
      `<p style="font-size:28px;font-weight:bold;letter-spacing:6px;font-family:monospace">${opts.code}</p>` +
      `<p>${escapeHtml(t.outro)}</p></body></html>`,
  };
}
