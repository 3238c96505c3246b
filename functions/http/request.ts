import type { APIGatewayProxyEventV2 } from 'aws-lambda';

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

export function toRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    host: headers.host ?? event.requestContext.domainName ?? '',
    headers,
    rawQuery: event.rawQueryString ?? '',
    query: new URLSearchParams(event.rawQueryString ?? ''),
    cookies: parseCookies(event.cookies, event.cookies ? undefined : headers.cookie),
    pathParams: Object.fromEntries(
      Object.entries(event.pathParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    ),
    body,
    bodyBytes: Buffer.byteLength(body, 'utf8'),
    sourceIp: event.requestContext.http.sourceIp,
    userAgent: event.requestContext.http.userAgent ?? '',
    requestId: event.requestContext.requestId,
  };
}
