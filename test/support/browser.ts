/**
 * Real Chromium (the system's `/usr/bin/chromium`, driven by playwright-core; no browser is ever
 * downloaded) for the browser tests and the screenshot script. The hosted pages are served by the
 * in-process test server; the client's redirect URI is a tiny local server standing in for the
 * app, so the code can be read from the URL the browser lands on and redeemed over HTTP.
 *
 * Why not `page.route('https://app.example.com/**')`: Playwright does not route the target of a
 * redirect (its route handler is only called for the first URL of a redirect chain), and the last
 * step of every flow is a 302/303 to the redirect URI, so Chromium would try to resolve the real
 * host. `http://app.localhost:<port>/callback` is a redirect URI the product accepts (http only on
 * loopback) and that Chromium resolves to loopback by itself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import * as OTPAuth from 'otpauth';
import { afterEach, expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { LocalOutbox } from '../../functions/mail/local-outbox.js';
import { servicesFor } from '../../functions/services.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, quiet, no network of its own: only what the tests ask for. */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    // Say what to do, rather than let playwright fail with a path error.
    throw new Error(
      `The browser tests drive Chromium at ${CHROMIUM_PATH}, which is missing. Install it ` +
        '(Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** The client app's callback: answers 200 "ok" to anything and remembers every URL it was sent. */
export interface CallbackServer {
  /** The redirect URI to register and send: `http://app.localhost:<port>/callback`. */
  url: string;
  received: URL[];
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const received: URL[] = [];
  const server = createServer((req, res) => {
    received.push(new URL(req.url ?? '/', `http://${req.headers.host ?? 'app.localhost'}`));
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : 'ok');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://app.localhost:${port}/callback`,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Where flows started from this page send the code. */
  callback: CallbackServer;
  /** Console messages and page errors mentioning the Content Security Policy, with the page URL. */
  cspViolations: string[];
}

const CSP = /content[- ]security[- ]policy/i;

/**
 * A fresh browser context (own cookies) with one page, every console message or page error about
 * the Content Security Policy recorded.
 */
export async function openPage(
  browser: Browser,
  callback: CallbackServer,
  opts: { viewport?: { width: number; height: number }; locale?: string } = {},
): Promise<TestPage> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? DESKTOP,
    locale: opts.locale ?? 'en-US',
    ...(opts.viewport && opts.viewport.width < 500
      ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
      : {}),
  });
  // Well under vitest's 30-second test timeout, so a missing element fails with Playwright's message.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (msg) => {
    if (CSP.test(msg.text())) cspViolations.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => {
    if (CSP.test(err.message)) cspViolations.push(`${page.url()}: ${err.message}`);
  });
  return { context, page, callback, cspViolations };
}

/** Waits for the browser to land on the client's callback; returns the query parameters it carries. */
export async function callbackParams(tp: TestPage): Promise<Record<string, string>> {
  await tp.page.waitForURL((url) => url.href.startsWith(`${tp.callback.url}?`));
  return Object.fromEntries(new URL(tp.page.url()).searchParams);
}

/** The local outbox the in-process server sends mail through (functions/services.ts builds it). */
export async function outbox(): Promise<LocalOutbox> {
  const { mailer } = await servicesFor('us');
  if (!(mailer instanceof LocalOutbox))
    throw new Error('the local server should send mail to the local outbox');
  return mailer;
}

/** The 6-digit code of the latest mail to an address. */
export async function latestCode(address: string): Promise<string> {
  const mail = (await outbox()).latest(address);
  if (!mail) throw new Error(`no mail to ${address} in the local outbox`);
  const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
  if (!code) throw new Error(`no code in the mail to ${address}: ${mail.text}`);
  return code;
}

/** A TOTP generator for a base32 secret, as an authenticator app would be. */
export function totpFor(secret: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    digits: 6,
    period: 30,
    algorithm: 'SHA1',
  });
}

/**
 * A code the server has not seen yet. TOTP codes are single-use per 30-second step (replay
 * protection), so a second verification in the same step waits for the next one.
 */
export async function freshTotp(totp: OTPAuth.TOTP, used: Set<string>): Promise<string> {
  for (;;) {
    const code = totp.generate();
    if (!used.has(code)) {
      used.add(code);
      return code;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Chromium's virtual WebAuthn authenticator: a platform authenticator that always consents. */
export async function addVirtualAuthenticator(
  page: Page,
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/**
 * For a test file: every page handed to the returned function is closed after each test, and the
 * test fails if any of them reported a Content Security Policy violation.
 */
export function closedAfterEachWithoutCspViolations(): (tp: TestPage) => TestPage {
  const pages: TestPage[] = [];
  afterEach(async () => {
    const open = pages.splice(0);
    for (const tp of open) await tp.context.close();
    expect(open.flatMap((tp) => tp.cspViolations)).toEqual([]);
  });
  return (tp) => {
    pages.push(tp);
    return tp;
  };
}
