import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** API Gateway HTTP APIs pass these content types as text and base64-encode everything else. */
const TEXTUAL = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript|[a-z.+-]*\+json))/i;

/** The path and query of a request target, split once by the server and reused here. */
export interface Target {
  path: string;
  /** Without the `?`. */
  query: string;
}

/** An origin-form path of plain characters with no dot segment: nothing for URL parsing to change. */
const PLAIN_PATH = /^\/(?!.*\/\.\.?(?:\/|$))[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*$/;

/**
 * Splits `/a/b?x=1`. A plain path is taken as it is (this runs on every request); anything else
 * (dot segments, characters that need escaping, an absolute-form target) goes through WHATWG URL
 * parsing, which normalises it the way it always did.
 */
export function splitTarget(raw: string): Target {
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  if (PLAIN_PATH.test(path) && !/%2e/i.test(path)) return { path, query: q < 0 ? '' : raw.slice(q + 1) };
  const url = new URL(raw, 'http://local');
  return { path: url.pathname, query: url.search.slice(1) };
}

/**
 * Turns a Node HTTP request into the API Gateway (HTTP API, payload format 2.0) event Lambda would
 * receive, so the local server runs the very same handlers as AWS.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  target: Target = splitTarget(req.url ?? '/'),
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  // Node has already lower-cased the names and joined repeated headers (but for set-cookie and cookie).
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined) continue;
    if (name === 'cookie') {
      // Payload 2.0 moves cookies out of the headers into `cookies`.
      cookies = (Array.isArray(value) ? value.join('; ') : value).split(/;\s*/).filter(Boolean);
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  let query: Record<string, string> | undefined;
  if (target.query) {
    query = {};
    for (const [k, v] of new URLSearchParams(target.query)) query[k] = k in query ? `${query[k]},${v}` : v;
  }
  const host = headers.host ?? '';
  const colon = host.lastIndexOf(':');
  const domainName = colon > 0 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
  const textual = TEXTUAL.test(headers['content-type'] ?? '');
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: target.path,
    rawQueryString: target.query,
    headers,
    ...(cookies ? { cookies } : {}),
    ...(query && Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName,
      domainPrefix: host.split('.')[0] ?? '',
      http: {
        method: req.method ?? 'GET',
        path: target.path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body ?? '';
  if (result.isBase64Encoded) {
    const bytes = Buffer.from(body, 'base64');
    headers['content-length'] = String(bytes.length);
    res.writeHead(result.statusCode ?? 200, headers);
    res.end(bytes);
    return;
  }
  headers['content-length'] = String(Buffer.byteLength(body, 'utf8'));
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body, 'utf8');
}
