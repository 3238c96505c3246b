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

const EXISTS_TEXTS: Record<MailLocale, (tenant: string) => { subject: string; body: string[] }> = {
  en: (tenant) => ({
    subject: `You already have a ${tenant} account`,
    body: [
      `Someone, probably you, asked to create a ${tenant} account with this email address. You already have one, so no new account was made and there is no code to enter.`,
      `To sign in, choose "Sign in" instead, enter this address and verify it's you as usual (for example with a code by email).`,
      `If you did not ask for this, you can ignore this email: nothing has changed.`,
    ],
  }),
  es: (tenant) => ({
    subject: `Ya tienes una cuenta de ${tenant}`,
    body: [
      `Alguien, probablemente tú, ha pedido crear una cuenta de ${tenant} con esta dirección de correo. Ya tienes una, así que no se ha creado otra y no hay ningún código que introducir.`,
      `Para entrar, elige «Iniciar sesión», escribe esta dirección y verifica que eres tú como siempre (por ejemplo, con un código por correo).`,
      `Si no lo has pedido tú, puedes ignorar este correo: no ha cambiado nada.`,
    ],
  }),
};

/**
 * What a sign-up for an address that already has an account sends instead of a code: the page
 * shows the same "check your email" screen either way (no enumeration), and the mail tells the
 * owner how to sign in. It carries no code, so it cannot lead to a second account.
 */
export function accountExistsMail(opts: { to: string; tenantName: string; locale?: string }): Mail {
  const lang = mailLocale(opts.locale);
  const t = EXISTS_TEXTS[lang](opts.tenantName.replace(/[\r\n]+/g, ' ').trim());
  return {
    to: opts.to,
    subject: t.subject,
    text: `${t.body.join('\n\n')}\n`,
    html:
      `<!doctype html><html lang="${lang}"><body style="font-family:system-ui,sans-serif">` +
      t.body.map((p) => `<p>${escapeHtml(p)}</p>`).join('') +
      `</body></html>`,
  };
}
