import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config, issuerFor, tenantOrigin } from '../config.js';
import type { RegionCode } from '../regions.js';
import { servicesFor, type RegionServices } from '../services.js';
import { BackendUnavailableError, notFound, ProtocolError } from '../errors.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import { resolveHost } from '../tenants/host.js';
import type { Tenant } from '../tenants/tenant.js';
import { logger } from '../log.js';
import { domainErrorToHttp } from './domain-errors.js';
import { brandedErrorPage, errorPage } from './error-page.js';
import { withSecurityHeaders } from './headers.js';
import { toRequest, type HttpRequest, type HttpResponse } from './request.js';

/** How a handler's errors are rendered. */
export type ErrorStyle = 'json' | 'oauth' | 'b2c' | 'page';

/** Everything a tenant-scoped handler needs, resolved from the host before the handler runs. */
export interface TenantContext {
  tenant: Tenant;
  region: RegionCode;
  services: RegionServices;
  /** The tenant's slice of the region's table. */
  store: TenantStore;
  /** Signs and verifies this tenant's tokens: its own keys (`SIGNER=tenant`) or the region's. */
  signer: Signer;
  /** `https://<tenant>.<region>.<base>` */
  origin: string;
  /** `<origin>/oidc` */
  issuer: string;
}

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

interface State {
  req: HttpRequest;
  started: number;
  tenant?: TenantContext;
  style: ErrorStyle;
}

type Request = middy.Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context & { state?: State }
>;

function render(res: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: res.status,
    headers: withSecurityHeaders(res.headers),
    body: res.body ?? '',
    ...(res.cookies?.length ? { cookies: res.cookies } : {}),
  };
}

/** RFC 6749 §5.2-style JSON for every JSON error; B2C endpoints add the RESTful error contract fields. */
function b2cUserMessage(status: number): string {
  if (status === 401 || status === 403) return 'Sign-in is not configured correctly. Please contact support.';
  if (status === 429 || status === 503) return 'The service is busy. Please try again in a moment.';
  if (status >= 500) return 'Something went wrong. Please try again later.';
  return 'We could not process your sign-in request. Please try again.';
}

export function errorResponse(
  err: ProtocolError,
  style: ErrorStyle,
  requestId?: string,
  pageFor?: { tenantName: string; brandColor?: string; acceptLanguage?: string },
): HttpResponse {
  if (style === 'page') {
    // On a known tenant's host the error looks like the tenant's other pages; otherwise plain.
    if (pageFor) return { ...brandedErrorPage(err, pageFor), status: err.status };
    return {
      status: err.status,
      headers: { ...err.headers, ...errorPage.headers },
      body: errorPage.render(err),
    };
  }
  const body: Record<string, unknown> = { error: err.code, error_description: err.description, ...err.extra };
  if (style === 'b2c') {
    // Azure AD B2C's RESTful technical profile error contract: B2C shows `userMessage` only when the
    // body's `status` is 409 (whatever the HTTP status), so it is 409 here; the HTTP status stays
    // right for everyone else. The user sees a plain sentence; the detail is `developerMessage`.
    Object.assign(body, {
      version: '1.0.0',
      status: 409,
      code: err.code,
      userMessage: b2cUserMessage(err.status),
      developerMessage: err.description,
      ...(requestId ? { requestId } : {}),
    });
  }
  return {
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...err.headers },
    body: JSON.stringify(body),
  };
}

function toHttpError(err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const mapped = domainErrorToHttp(err);
  if (mapped) return mapped;
  if (err instanceof BackendUnavailableError) {
    logger.warn('backend unavailable', { reason: err.message });
    return new ProtocolError(
      503,
      'temporarily_unavailable',
      'the service is temporarily unavailable, try again',
      {
        'retry-after': '1',
      },
    );
  }
  logger.error('unhandled error', err as Error);
  return new ProtocolError(500, 'server_error', 'the server could not process the request');
}

const core = (
  style: ErrorStyle,
): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context & { state?: State }
> => ({
  before: (request: Request) => {
    request.context.state = { req: toRequest(request.event), started: performance.now(), style };
  },
  after: (request: Request) => {
    log(request, request.response?.statusCode ?? 200);
  },
  onError: (request: Request) => {
    const state = request.context.state;
    const tenant = state?.tenant?.tenant;
    request.response = render(
      errorResponse(
        toHttpError(request.error),
        state?.style ?? style,
        state?.req.requestId,
        tenant
          ? {
              tenantName: tenant.name,
              ...(tenant.brandColor ? { brandColor: tenant.brandColor } : {}),
              ...(state?.req.headers['accept-language']
                ? { acceptLanguage: state.req.headers['accept-language'] }
                : {}),
            }
          : undefined,
      ),
    );
    log(request, request.response.statusCode ?? 500);
  },
});

function log(request: Request, status: number): void {
  const s = request.context.state;
  if (!s) return;
  logger.info('request', {
    method: s.req.method,
    host: s.req.host,
    path: s.req.path,
    status,
    ms: Math.round((performance.now() - s.started) * 10) / 10,
    ...(s.tenant ? { tenant: s.tenant.tenant.slug, region: s.tenant.region } : {}),
  });
}

/** A handler that needs no tenant (health checks). */
export function publicHandler(
  fn: (req: HttpRequest) => Promise<HttpResponse>,
  opts: { errors?: ErrorStyle } = {},
): LambdaHandler {
  return middy<
    APIGatewayProxyEventV2,
    APIGatewayProxyStructuredResultV2,
    Error,
    Context & { state?: State }
  >()
    .use(core(opts.errors ?? 'json'))
    .handler(async (_event, context) => render(await fn(context.state!.req))) as unknown as LambdaHandler;
}

/**
 * Resolves `<tenant>.<region>.<base>` before any handler logic: tenant first, so every key a
 * handler can reach starts with the tenant id.
 */
export async function resolveTenant(req: HttpRequest): Promise<TenantContext> {
  const cfg = config();
  const host = resolveHost(req.host, cfg);
  if (host.kind === 'malformed')
    throw new ProtocolError(400, 'invalid_host', `malformed host: ${host.reason}`);
  if (host.kind === 'misdirected') {
    throw new ProtocolError(
      421,
      'misdirected_request',
      `region "${host.region}" is not served by this deployment`,
    );
  }
  const services = await servicesFor(host.region);
  const tenant = await services.tenants.findBySlug(host.slug);
  // Same answer whether or not the slug exists in another region: no hint where a tenant lives.
  if (!tenant) throw notFound('no such tenant', 'unknown_tenant');
  const store = services.tenants.scoped(tenant.id);
  return {
    tenant,
    region: host.region,
    services,
    store,
    signer: services.signerFor(store),
    origin: tenantOrigin(cfg, tenant.slug, host.region),
    issuer: issuerFor(cfg, tenant.slug, host.region),
  };
}

/** A handler on a tenant's host: the tenant is resolved first; unknown or malformed hosts never reach `fn`. */
export function tenantHandler(
  fn: (req: HttpRequest, ctx: TenantContext) => Promise<HttpResponse>,
  opts: { errors?: ErrorStyle } = {},
): LambdaHandler {
  return middy<
    APIGatewayProxyEventV2,
    APIGatewayProxyStructuredResultV2,
    Error,
    Context & { state?: State }
  >()
    .use(core(opts.errors ?? 'json'))
    .before(async (request: Request) => {
      const state = request.context.state!;
      state.tenant = await resolveTenant(state.req);
    })
    .handler(async (_event, context) => {
      const state = context.state!;
      return render(await fn(state.req, state.tenant!));
    }) as unknown as LambdaHandler;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}
