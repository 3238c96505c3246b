/**
 * A real upstream OpenID Connect provider for the upstream sign-in tests: `oidc-provider` (a
 * certified OP) in-process on a loopback port, with a tiny proxy in front that can misbehave on
 * purpose. Nothing about HTTP is mocked: discovery, JWKS, the authorization endpoint and the
 * token endpoint are the real ones; the proxy only forwards, unless a test asks it to
 *
 * - `tamper = 'signature'`: change the ID token's `sub` in the token response (the signature no
 *   longer matches);
 * - `tamper = 'nonce'`: replace the `nonce` of the authorization request before the OP sees it (a
 *   validly signed ID token with another nonce);
 * - `tamper = 'token-error'`: answer the token request with a 500.
 *
 * The OP's login screen is replaced by `next`: the account the next sign-in is, or an error the
 * "user" answers with (`access_denied`), so HTTP tests need no OP form.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface UpstreamAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface UpstreamOp {
  issuer: string;
  /** What the next sign-in at the OP answers. */
  next: UpstreamAccount | { error: string };
  tamper?: 'signature' | 'nonce' | 'token-error';
  /** Registers a client (idempotent per id). */
  addClient(client: { client_id: string; client_secret: string; redirect_uris: string[] }): void;
  /** Requests the proxy saw, by path (for "never called" assertions). */
  seen: string[];
  close(): Promise<void>;
}

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

export async function startUpstreamOp(): Promise<UpstreamOp> {
  const front = createServer();
  const frontPort = await listen(front);
  const issuer = `http://127.0.0.1:${frontPort}`;
  const clients: Record<string, unknown>[] = [];
  const accounts = new Map<string, UpstreamAccount>();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'upstream-1', alg: 'RS256', use: 'sig' };

  const makeProvider = () =>
    new Provider(issuer, {
      clients,
      jwks: { keys: [jwk] },
      findAccount: (_ctx: unknown, sub: string) => {
        const account = accounts.get(sub);
        return account ? { accountId: sub, claims: () => ({ ...account }) } : undefined;
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      // The claims of the scopes asked for in the ID token itself, as Google and Microsoft do.
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: false } },
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      pkce: { required: () => true },
      // First-party sign-in: every scope granted without a consent screen.
      loadExistingGrant: async (ctx: {
        oidc: {
          provider: {
            Grant: new (init: object) => { addOIDCScope(s: string): void; save(): Promise<unknown> };
          };
          client: { clientId: string };
          session: { accountId: string };
        };
      }) => {
        const grant = new ctx.oidc.provider.Grant({
          clientId: ctx.oidc.client.clientId,
          accountId: ctx.oidc.session.accountId,
        });
        grant.addOIDCScope('openid email profile');
        await grant.save();
        return grant;
      },
    });
  let provider = makeProvider();

  const back = createServer();
  back.on('request', (req, res) => provider.callback()(req, res));
  const backPort = await listen(back);

  const op: UpstreamOp = {
    issuer,
    next: { sub: 'nobody' },
    seen: [],
    addClient(client) {
      if (clients.some((c) => c.client_id === client.client_id)) return;
      clients.push({
        ...client,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      // oidc-provider reads static clients when it is made.
      provider = makeProvider();
    },
    close: () =>
      Promise.all(
        [front, back].map((s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))),
      ).then(() => undefined),
  };

  async function interaction(req: IncomingMessage, res: ServerResponse) {
    await provider.interactionDetails(req, res);
    const next = op.next;
    if ('error' in next) {
      await provider.interactionFinished(req, res, {
        error: next.error,
        error_description: 'the user said no',
      });
      return;
    }
    accounts.set(next.sub, next);
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: next.sub } },
      { mergeWithLastSubmission: false },
    );
  }

  front.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, issuer);
    op.seen.push(url.pathname);
    if (url.pathname.startsWith('/interaction/')) {
      interaction(req, res).catch((err: Error) => res.writeHead(500).end(err.message));
      return;
    }
    if (url.pathname === '/auth' && op.tamper === 'nonce')
      url.searchParams.set('nonce', 'not-the-nonce-sent');
    if (url.pathname === '/token' && op.tamper === 'token-error') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: backPort,
        method: req.method,
        path: url.pathname + url.search,
        headers: req.headers,
      },
      (answer) => {
        if (!(url.pathname === '/token' && op.tamper === 'signature')) {
          res.writeHead(answer.statusCode!, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString()) as { id_token?: string };
          if (json.id_token) {
            const [h, p, s] = json.id_token.split('.');
            const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
            payload.sub = 'someone-else';
            json.id_token = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
          }
          const body = JSON.stringify(json);
          const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
          res.writeHead(answer.statusCode!, headers).end(body);
        });
      },
    );
    req.pipe(upstream);
  });
  return op;
}
