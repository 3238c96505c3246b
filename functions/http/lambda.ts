import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { BackendUnavailableError, ProtocolError } from '../errors.js';
import type { RegionCode } from '../regions.js';
import type { Tenant } from '../tenants/tenant.js';
import { ENV } from '../env-names.js';
import { logger } from '../log.js';
import { flushMetrics, metric, useMetricSink } from '../metrics.js';
import { emfSink } from '../metrics-emf.js';
import { domainErrorToHttp } from './domain-errors.js';
import { brandedErrorPage, errorPage } from './error-page.js';
import { withSecurityHeaders } from './headers.js';
import {
  toRequest,
  toResult,
  type ApiGatewayEvent,
  type ApiGatewayResult,
  type HttpRequest,
  type HttpResponse,
} from './request.js';

/*
 * The middy wrapper every Lambda handler is built on: the API Gateway event in, the request log,
 * errors rendered in the endpoint's style. It knows no tenant and no adapter (tenant resolution is
 * `handler.ts`'s), so a function that needs neither, `/health`, bundles no SDK client.
 */

/** How a handler's errors are rendered. */
export type ErrorStyle = 'json' | 'oauth' | 'b2c' | 'page';

// EMF on AWS (the stack sets METRICS=emf); locally and in tests the metrics stay in-process counters.
if (process.env[ENV.metrics] === 'emf') useMetricSink(emfSink());

/** Takes either payload format (REST API 1.0 on AWS, 2.0 locally) and answers in the same one. */
export type LambdaHandler = (event: ApiGatewayEvent, context: Context) => Promise<ApiGatewayResult>;

export interface State {
  req: HttpRequest;
  started: number;
  /** Set once the tenant is resolved (`handler.ts`): the error page and the log read it. */
  tenant?: { tenant: Tenant; region: RegionCode };
  style: ErrorStyle;
}

export type Request = middy.Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context & { state?: State }
>;

export function render(res: HttpResponse): APIGatewayProxyStructuredResultV2 {
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

export const core = (
  style: ErrorStyle,
): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context & { state?: State }
> => ({
  before: (request: Request) => {
    // Request id, cold start and function name on every line; the last invocation's tenant gone.
    logger.resetKeys();
    logger.addContext(request.context);
    request.context.state = { req: toRequest(request.event), started: performance.now(), style };
  },
  after: (request: Request) => {
    log(request, request.response?.statusCode ?? 200);
    request.response = inEventFormat(request);
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
    request.response = inEventFormat(request);
  },
});

/**
 * Handlers render the 2.0 shape; a 1.0 event (REST API) gets the 1.0 shape back. The event may be
 * either format at run time, whatever middy's types say, so `toRequest`/`toResult` look at it.
 */
function inEventFormat(request: Request): APIGatewayProxyStructuredResultV2 {
  return toResult(request.event, request.response ?? {});
}

function log(request: Request, status: number): void {
  const s = request.context.state;
  if (!s) return;
  if (status >= 400)
    metric(status >= 500 ? 'ServerErrors' : 'ClientErrors', { Route: routeOf(request.event) });
  flushMetrics();
  logger.info('request', {
    method: s.req.method,
    host: s.req.host,
    path: s.req.path,
    status,
    ms: Math.round((performance.now() - s.started) * 10) / 10,
    ...(s.tenant ? { tenant: s.tenant.tenant.slug, region: s.tenant.region } : {}),
  });
}

/** The API route (`POST /oidc/token`): HTTP API events name it; REST API events give method and resource. */
function routeOf(event: APIGatewayProxyEventV2): string {
  const rest = event as unknown as { httpMethod?: string; resource?: string };
  return event.routeKey ?? `${rest.httpMethod ?? ''} ${rest.resource ?? ''}`;
}

/** Every later log line of this invocation names the tenant and region (`handler.ts` calls it). */
export function tenantResolved(state: State): void {
  if (state.tenant) logger.appendKeys({ tenant: state.tenant.tenant.slug, region: state.tenant.region });
}

/** The middy chain every handler starts from: the request in, its errors rendered in `errors`' style. */
export function wrapped(errors: ErrorStyle = 'json') {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context & { state?: State }>(
    {
      // middy's early timeout arms a timer and races a promise on every invocation; no handler here
      // watches its abort signal, and a function that overruns is stopped by Lambda all the same.
      timeoutEarlyInMillis: 0,
    },
  ).use(core(errors));
}

/** A handler that needs no tenant (health checks). */
export function publicHandler(
  fn: (req: HttpRequest) => Promise<HttpResponse>,
  opts: { errors?: ErrorStyle } = {},
): LambdaHandler {
  return wrapped(opts.errors).handler(async (_event, context) =>
    render(await fn(context.state!.req)),
  ) as unknown as LambdaHandler;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}
