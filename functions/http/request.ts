import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';

/**
 * What API Gateway hands a Lambda proxy integration: payload format 1.0 from the REST API the stack
 * deploys, 2.0 from an HTTP API and from the local server (API Gateway Developer Guide, "Lambda
 * proxy integrations": the formats differ in where method, path, query, cookies and source IP are).
 */
export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;
export type ApiGatewayResult = APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult;

const isV1 = (event: ApiGatewayEvent): event is APIGatewayProxyEvent => 'httpMethod' in event;

/** What a handler sees of a request: API Gateway's event, normalised and decoded once. */
export interface HttpRequest {
  method: string;
  path: string;
  host: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  rawQuery: string;
  query: URLSearchParams;
  cookies: Record<string, string>;
  pathParams: Record<string, string>;
  /** The body as text (decoded from base64 when API Gateway encoded it). */
  body: string;
  bodyBytes: number;
  sourceIp: string;
  userAgent: string;
  requestId: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  cookies?: string[];
}

function parseCookies(list: string[] | undefined, header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = [...(list ?? []), ...(header ? header.split(';') : [])];
  for (const part of parts) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!(name in out)) {
      try {
        out[name] = decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        out[name] = part.slice(i + 1).trim();
      }
    }
  }
  return out;
}

/** The parts that differ between payload formats; everything else is read the same way. */
interface Normalised {
  method: string;
  path: string;
  headers: Record<string, string>;
  rawQuery: string;
  cookieList: string[] | undefined;
  sourceIp: string;
  userAgent: string | undefined;
  domainName: string | undefined;
  pathParams: Record<string, string>;
}

const defined = (params: Record<string, string | undefined> | null | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(params ?? {}).filter((e): e is [string, string] => e[1] !== undefined));

/** REST APIs pass path parameters as sent (percent-encoded); HTTP APIs and the local server decode them. */
function decodedParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/**
 * Format 1.0 has no raw query string, only decoded values: they are encoded again with every
 * repetition kept (`multiValueQueryStringParameters`), so a repeated OAuth parameter is still seen
 * and refused (RFC 6749 §3.1). Repeated headers are joined as HTTP joins them (RFC 9110 §5.3;
 * RFC 6265 §5.4 for `Cookie`).
 */
function fromV1(event: APIGatewayProxyEvent): Normalised {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  for (const [k, list] of Object.entries(event.multiValueHeaders ?? {})) {
    const name = k.toLowerCase();
    if (list?.length) headers[name] = list.join(name === 'cookie' ? '; ' : ', ');
  }
  const query = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [k, list] of Object.entries(multi)) for (const v of list ?? []) query.append(k, v);
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) {
    if (v !== undefined && !(k in multi)) query.append(k, v);
  }
  return {
    method: event.httpMethod,
    path: event.path,
    headers,
    rawQuery: query.toString(),
    cookieList: undefined,
    sourceIp: event.requestContext.identity.sourceIp,
    userAgent: event.requestContext.identity.userAgent ?? headers['user-agent'],
    domainName: event.requestContext.domainName,
    pathParams: decodedParams(defined(event.pathParameters)),
  };
}

function fromV2(event: APIGatewayProxyEventV2): Normalised {
  const headers: Record<string, string> = {};
  const given = event.headers ?? {};
  for (const k in given) {
    const v = given[k];
    if (v !== undefined) headers[k.toLowerCase()] = v;
  }
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers,
    rawQuery: event.rawQueryString ?? '',
    cookieList: event.cookies,
    sourceIp: event.requestContext.http.sourceIp,
    userAgent: event.requestContext.http.userAgent,
    domainName: event.requestContext.domainName,
    pathParams: defined(event.pathParameters),
  };
}

export function toRequest(event: ApiGatewayEvent): HttpRequest {
  const n = isV1(event) ? fromV1(event) : fromV2(event);
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  return {
    method: n.method.toUpperCase(),
    path: n.path,
    host: n.headers.host ?? n.domainName ?? '',
    headers: n.headers,
    rawQuery: n.rawQuery,
    query: new URLSearchParams(n.rawQuery),
    cookies: parseCookies(n.cookieList, n.cookieList ? undefined : n.headers.cookie),
    pathParams: n.pathParams,
    body,
    bodyBytes: Buffer.byteLength(body, 'utf8'),
    sourceIp: n.sourceIp,
    userAgent: n.userAgent ?? '',
    requestId: event.requestContext.requestId,
  };
}

/**
 * The result in the event's payload format. Format 1.0 has no `cookies`: each `Set-Cookie` is one
 * entry of `multiValueHeaders` (a header map could hold only one).
 */
export function toResult(
  event: ApiGatewayEvent,
  result: APIGatewayProxyStructuredResultV2,
): ApiGatewayResult {
  if (!isV1(event)) return result;
  const { cookies, headers, statusCode, body, isBase64Encoded } = result;
  return {
    statusCode: statusCode ?? 200,
    body: body ?? '',
    ...(headers ? { headers } : {}),
    ...(cookies?.length ? { multiValueHeaders: { 'set-cookie': cookies } } : {}),
    ...(isBase64Encoded ? { isBase64Encoded } : {}),
  };
}
