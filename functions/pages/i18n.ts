/**
 * Page translations. `ui_locales` (OIDC Core §3.1.2.1) wins, then Accept-Language, then English.
 * Adding a language is adding one dictionary with the same keys (the type checks it).
 */
const en = {
  verify_title: "Verify it's you",
  choose_intro: 'Choose how you want to verify.',
  method_PASSKEY: 'Passkey',
  method_PASSKEY_hint: 'Use your fingerprint, face or screen lock',
  method_AUTHENTICATOR_APP: 'Authenticator app',
  method_AUTHENTICATOR_APP_hint: 'Enter the code from your app',
  method_EMAIL_OTP: 'Email code',
  method_EMAIL_OTP_hint: 'Get a code by email',
  code_label: 'Verification code',
  code_hint: '6 digits',
  verify: 'Verify',
  other_methods: 'Use another method',
  give_up: "I can't verify now",
  wrong_code: 'That code is not right.',
  attempts_left: 'Attempts left: {n}',
  totp_title: 'Enter the code from your authenticator app',
  email_title: 'Check your email',
  email_sent: 'We sent a code to {to}. It expires in 10 minutes.',
  email_send: 'Email me a code',
  email_resend: 'Send a new code',
  rate_limited: 'Too many codes were sent. Try again in {s} seconds.',
  passkey_title: 'Use your passkey',
  passkey_intro: 'Your device will ask for your fingerprint, face or screen lock.',
  passkey_use: 'Use passkey',
  passkey_failed: 'The passkey could not be used. Try again or choose another method.',
  passkey_unsupported: 'This browser cannot use passkeys. Choose another method.',
  enroll_title: 'Set up a way to verify it’s you',
  enroll_intro: 'Next time you sign in, you will use this to prove it’s you.',
  enroll_skip: 'Not now',
  enroll_totp_title: 'Set up an authenticator app',
  enroll_totp_steps: 'Scan the QR code with your authenticator app, then enter the 6-digit code it shows.',
  enroll_totp_secret: 'Can’t scan? Enter this key in the app:',
  qr_alt: 'QR code for your authenticator app',
  enroll_email_title: 'Get codes by email',
  email_label: 'Email address',
  enroll_passkey_title: 'Create a passkey',
  enroll_passkey_intro:
    'A passkey lets you sign in with your fingerprint, face or screen lock. Nothing to remember.',
  passkey_create: 'Create passkey',
  settings_title: 'Your sign-in methods',
  settings_intro: 'Add or remove the ways you verify it’s you.',
  settings_none: 'You have no sign-in methods yet.',
  added_on: 'Added {date}',
  remove: 'Remove',
  remove_label: 'Remove {name}',
  add_method: 'Add a method',
  done: 'Done',
  cannot_remove_last: 'Add another method before you remove your last one.',
  expired_title: 'This sign-in has ended',
  expired_text:
    'It expired, was completed, or was started in another browser. Return to the application and sign in again.',
  closed_title: 'All done',
  closed_text: 'You can close this window and return to the application.',
  error_title: 'Something went wrong',
  form_expired: 'The form expired. Please try again.',
  continue: 'Continue',
  back: 'Back',
  skip_link: 'Skip to content',
  signin_title: 'Sign in',
  identifier_label: 'Email or username',
  identifier_required: 'Enter your email or username.',
  next: 'Next',
  consent_title: '{client} wants to access your account',
  consent_intro: 'Signed in as {user}. Allow {client} to:',
  consent_allow: 'Allow',
  consent_deny: 'Deny',
  scope_openid: 'Confirm who you are',
  scope_profile: 'See your name and profile picture',
  scope_email: 'See your email address',
  scope_phone: 'See your phone number',
  scope_address: 'See your address',
  scope_offline_access: 'Stay signed in when you are not using it',
  scope_other: 'Use “{scope}”',
  select_title: 'Choose an account',
  continue_as: 'Continue as {user}',
  use_another: 'Use another account',
  second_factor: 'For this application, verify with a second method.',
  signed_out_title: 'You are signed out',
  signed_out_text: 'You have been signed out. You can close this window.',
  logout_title: 'Sign out?',
  logout_text: 'Do you want to sign out of {tenant}?',
  logout_confirm: 'Sign out',
  method_added: 'Method added.',
};

export type Messages = typeof en;
export type MessageKey = keyof Messages;

const es: Messages = {
  verify_title: 'Verifica que eres tú',
  choose_intro: 'Elige cómo quieres verificarte.',
  method_PASSKEY: 'Llave de acceso',
  method_PASSKEY_hint: 'Usa tu huella, tu cara o el bloqueo de pantalla',
  method_AUTHENTICATOR_APP: 'App de autenticación',
  method_AUTHENTICATOR_APP_hint: 'Introduce el código de tu app',
  method_EMAIL_OTP: 'Código por correo',
  method_EMAIL_OTP_hint: 'Recibe un código por correo electrónico',
  code_label: 'Código de verificación',
  code_hint: '6 dígitos',
  verify: 'Verificar',
  other_methods: 'Usar otro método',
  give_up: 'No puedo verificarme ahora',
  wrong_code: 'El código no es correcto.',
  attempts_left: 'Intentos restantes: {n}',
  totp_title: 'Introduce el código de tu app de autenticación',
  email_title: 'Revisa tu correo',
  email_sent: 'Hemos enviado un código a {to}. Caduca en 10 minutos.',
  email_send: 'Envíame un código',
  email_resend: 'Enviar un código nuevo',
  rate_limited: 'Se han enviado demasiados códigos. Vuelve a intentarlo en {s} segundos.',
  passkey_title: 'Usa tu llave de acceso',
  passkey_intro: 'Tu dispositivo te pedirá tu huella, tu cara o el bloqueo de pantalla.',
  passkey_use: 'Usar llave de acceso',
  passkey_failed: 'No se pudo usar la llave de acceso. Inténtalo de nuevo o elige otro método.',
  passkey_unsupported: 'Este navegador no admite llaves de acceso. Elige otro método.',
  enroll_title: 'Configura una forma de verificar que eres tú',
  enroll_intro: 'La próxima vez que inicies sesión, la usarás para demostrar que eres tú.',
  enroll_skip: 'Ahora no',
  enroll_totp_title: 'Configura una app de autenticación',
  enroll_totp_steps:
    'Escanea el código QR con tu app de autenticación y escribe el código de 6 dígitos que muestra.',
  enroll_totp_secret: '¿No puedes escanearlo? Introduce esta clave en la app:',
  qr_alt: 'Código QR para tu app de autenticación',
  enroll_email_title: 'Recibe códigos por correo',
  email_label: 'Correo electrónico',
  enroll_passkey_title: 'Crea una llave de acceso',
  enroll_passkey_intro:
    'Una llave de acceso te permite entrar con tu huella, tu cara o el bloqueo de pantalla. Sin nada que recordar.',
  passkey_create: 'Crear llave de acceso',
  settings_title: 'Tus métodos de inicio de sesión',
  settings_intro: 'Añade o elimina las formas de verificar que eres tú.',
  settings_none: 'Todavía no tienes métodos de inicio de sesión.',
  added_on: 'Añadido el {date}',
  remove: 'Eliminar',
  remove_label: 'Eliminar {name}',
  add_method: 'Añadir un método',
  done: 'Listo',
  cannot_remove_last: 'Añade otro método antes de eliminar el último.',
  expired_title: 'Este inicio de sesión ha terminado',
  expired_text:
    'Ha caducado, ya se completó o se inició en otro navegador. Vuelve a la aplicación e inicia sesión de nuevo.',
  closed_title: 'Todo listo',
  closed_text: 'Puedes cerrar esta ventana y volver a la aplicación.',
  error_title: 'Algo salió mal',
  form_expired: 'El formulario caducó. Inténtalo de nuevo.',
  continue: 'Continuar',
  back: 'Volver',
  skip_link: 'Saltar al contenido',
  signin_title: 'Iniciar sesión',
  identifier_label: 'Correo electrónico o nombre de usuario',
  identifier_required: 'Escribe tu correo electrónico o nombre de usuario.',
  next: 'Siguiente',
  consent_title: '{client} quiere acceder a tu cuenta',
  consent_intro: 'Sesión iniciada como {user}. Permitir que {client}:',
  consent_allow: 'Permitir',
  consent_deny: 'Denegar',
  scope_openid: 'Confirme quién eres',
  scope_profile: 'Vea tu nombre y tu foto de perfil',
  scope_email: 'Vea tu correo electrónico',
  scope_phone: 'Vea tu número de teléfono',
  scope_address: 'Vea tu dirección',
  scope_offline_access: 'Mantenga la sesión cuando no la usas',
  scope_other: 'Use «{scope}»',
  select_title: 'Elige una cuenta',
  continue_as: 'Continuar como {user}',
  use_another: 'Usar otra cuenta',
  second_factor: 'Para esta aplicación, verifícate con un segundo método.',
  signed_out_title: 'Has cerrado la sesión',
  signed_out_text: 'Has cerrado la sesión. Puedes cerrar esta ventana.',
  logout_title: '¿Cerrar sesión?',
  logout_text: '¿Quieres cerrar la sesión de {tenant}?',
  logout_confirm: 'Cerrar sesión',
  method_added: 'Método añadido.',
};

const dictionaries = { en, es } as const;
export type Locale = keyof typeof dictionaries;
export const LOCALES = Object.keys(dictionaries) as Locale[];

/** Picks the first supported language of `ui_locales`, then of Accept-Language, else English. */
export function pickLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): Locale {
  const candidates = [
    ...(uiLocales ?? '').split(' '),
    ...(acceptLanguage ?? '').split(',').map((p) => p.split(';')[0]!.trim()),
  ];
  for (const tag of candidates) {
    const base = tag.toLowerCase().split('-')[0] as Locale;
    if (base && (LOCALES as string[]).includes(base)) return base;
  }
  return 'en';
}

export function translator(locale: Locale) {
  const dict = dictionaries[locale];
  return (key: MessageKey, vars: Record<string, string | number> = {}): string =>
    dict[key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

export type T = ReturnType<typeof translator>;
