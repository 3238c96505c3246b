import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseForm, parseParams } from '../../functions/http/body.js';
import { json, publicHandler } from '../../functions/http/lambda.js';
import { toRequest, toResult } from '../../functions/http/request.js';
import { handler as notFound } from '../../functions/handlers/not-found.js';
import { lambdaContext, splitTarget } from '../../local/http-adapter.js';

/** What API Gateway's REST API sends a Lambda proxy integration (payload format 1.0). */
function v1(over: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/oidc/token',
    path: '/oidc/token',
    httpMethod: 'POST',
    headers: { Host: 'acme.eu.id.example.com', 'Content-Type': 'application/x-www-form-urlencoded' },
    multiValueHeaders: {
      Host: ['acme.eu.id.example.com'],
      'Content-Type': ['application/x-www-form-urlencoded'],
    },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: undefined,
      domainName: 'acme.eu.id.example.com',
      httpMethod: 'POST',
      path: '/oidc/token',
      protocol: 'HTTP/1.1',
      requestId: 'req-v1',
      requestTimeEpoch: 0,
      resourceId: 'r1',
      resourcePath: '/oidc/token',
      stage: 'live',
      identity: {
        sourceIp: '203.0.113.9',
        userAgent: 'curl/8',
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
    },
    ...over,
  };
}

/** What an HTTP API (and the local server) sends (payload format 2.0). */
function v2(over: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /oidc/token',
    rawPath: '/oidc/token',
    rawQueryString: '',
    headers: { host: 'acme.eu.id.example.com' },
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'acme.eu.id.example.com',
      domainPrefix: 'acme',
      http: {
        method: 'POST',
        path: '/oidc/token',
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.4',
        userAgent: 'node',
      },
      requestId: 'req-v2',
      routeKey: 'POST /oidc/token',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    ...over,
  };
}

const context = (): Context => lambdaContext('test');

describe('toRequest: payload format 1.0 (REST API)', () => {
  it('reads method, path, lower-cased headers, host, source IP, user agent and request id', () => {
    const req = toRequest(v1({ pathParameters: { clientId: 'web%20app' } }));
    expect(req).toMatchObject({
      method: 'POST',
      path: '/oidc/token',
      host: 'acme.eu.id.example.com',
      sourceIp: '203.0.113.9',
      userAgent: 'curl/8',
      requestId: 'req-v1',
      pathParams: { clientId: 'web app' },
    });
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers).not.toHaveProperty('Host');
  });

  it('decodes path parameters as the local server does, and leaves a malformed one as sent', () => {
    const req = toRequest(v1({ pathParameters: { userId: 'ada%40example.com', bad: '%E0%A4%A' } }));
    expect(req.pathParams).toEqual({ userId: 'ada@example.com', bad: '%E0%A4%A' });
  });

  it('keeps repeated query parameters, so a repeated OAuth parameter is still refused', () => {
    const req = toRequest(
      v1({
        httpMethod: 'GET',
        path: '/oidc/auth',
        queryStringParameters: {
          scope: 'email',
          client_id: 'web',
          redirect_uri: 'https://rp.example/cb?a=1&b',
        },
        multiValueQueryStringParameters: {
          scope: ['openid', 'email'],
          client_id: ['web'],
          redirect_uri: ['https://rp.example/cb?a=1&b'],
        },
      }),
    );
    expect(req.query.getAll('scope')).toEqual(['openid', 'email']);
    // Decoded values are encoded again: a value holding & and = stays one value.
    expect(req.query.get('redirect_uri')).toBe('https://rp.example/cb?a=1&b');
    expect(new URLSearchParams(req.rawQuery).getAll('scope')).toEqual(['openid', 'email']);
    expect(() => parseParams(req.query)).toThrow(/the parameter "scope" is repeated/);
  });

  it('reads single-valued query parameters when no multi-value map is given', () => {
    const req = toRequest(
      v1({ queryStringParameters: { view: 'totp' }, multiValueQueryStringParameters: null }),
    );
    expect(req.query.get('view')).toBe('totp');
    expect(req.rawQuery).toBe('view=totp');
  });

  it('reads every Cookie header, and decodes cookie values', () => {
    const req = toRequest(
      v1({
        headers: { Host: 'acme.eu.id.example.com', Cookie: 'b=2' },
        multiValueHeaders: {
          Host: ['acme.eu.id.example.com'],
          Cookie: ['__Host-sid=a%20b; theme=dark', 'b=2'],
        },
      }),
    );
    expect(req.cookies).toEqual({ '__Host-sid': 'a b', theme: 'dark', b: '2' });
  });

  it('joins other repeated headers with a comma', () => {
    const req = toRequest(v1({ multiValueHeaders: { Accept: ['text/html', 'application/json'] } }));
    expect(req.headers.accept).toBe('text/html, application/json');
  });

  it('decodes a base64 body, and counts its bytes', () => {
    const form = 'grant_type=client_credentials&scope=caf%C3%A9';
    const req = toRequest(v1({ body: Buffer.from(form).toString('base64'), isBase64Encoded: true }));
    expect(req.body).toBe(form);
    expect(req.bodyBytes).toBe(Buffer.byteLength(form));
    expect(parseForm(req)).toEqual({ grant_type: 'client_credentials', scope: 'café' });
  });

  it('falls back to the request context for host and user agent', () => {
    const event = v1({ headers: {}, multiValueHeaders: {} });
    expect(toRequest(event).host).toBe('acme.eu.id.example.com');
    expect(toRequest(event).userAgent).toBe('curl/8');
  });
});

describe('toRequest: payload format 2.0 (HTTP API, local server)', () => {
  it('reads the raw query with repetitions, cookies, base64 body and source IP', () => {
    const req = toRequest(
      v2({
        rawQueryString: 'scope=openid&scope=email',
        cookies: ['__Host-sid=x%3Dy', 'theme=dark'],
        body: Buffer.from('a=1').toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(req).toMatchObject({
      method: 'POST',
      path: '/oidc/token',
      host: 'acme.eu.id.example.com',
      sourceIp: '198.51.100.4',
      userAgent: 'node',
      requestId: 'req-v2',
      body: 'a=1',
      cookies: { '__Host-sid': 'x=y', theme: 'dark' },
    });
    expect(() => parseParams(req.query)).toThrow(/"scope" is repeated/);
  });
});

describe('toResult and the handlers: the answer in the event’s format', () => {
  const result = {
    statusCode: 302,
    headers: { location: '/x' },
    body: '',
    cookies: ['a=1; Secure', 'b=2; Secure'],
  };

  it('gives 2.0 events the 2.0 result unchanged', () => {
    expect(toResult(v2(), result)).toBe(result);
  });

  it('gives 1.0 events every Set-Cookie in multiValueHeaders, and no cookies member', () => {
    expect(toResult(v1(), result)).toEqual({
      statusCode: 302,
      headers: { location: '/x' },
      body: '',
      multiValueHeaders: { 'set-cookie': ['a=1; Secure', 'b=2; Secure'] },
    });
  });

  it('a handler answers a REST API event in format 1.0 (cookies, headers, status)', async () => {
    const handler = publicHandler(async (req) => ({
      ...json(200, { ip: req.sourceIp, scope: req.query.getAll('scope') }),
      cookies: ['one=1', 'two=2'],
    }));
    const out = await handler(
      v1({ httpMethod: 'GET', multiValueQueryStringParameters: { scope: ['a', 'b'] } }),
      context(),
    );
    expect(out).not.toHaveProperty('cookies');
    expect(out).toMatchObject({
      statusCode: 200,
      multiValueHeaders: { 'set-cookie': ['one=1', 'two=2'] },
      headers: expect.objectContaining({ 'content-type': 'application/json; charset=utf-8' }),
    });
    expect(JSON.parse(out.body ?? '')).toEqual({ ip: '203.0.113.9', scope: ['a', 'b'] });
  });

  it('an error (the fallback route’s 405) is rendered in format 1.0 too', async () => {
    const out = await notFound(v1({ httpMethod: 'GET', path: '/oidc/token' }), context());
    expect(out.statusCode).toBe(405);
    expect(out).not.toHaveProperty('cookies');
    expect(JSON.parse(out.body ?? '')).toMatchObject({ error: expect.any(String) });
  });
});

describe('splitTarget: the local server splits a request target the way URL parsing would', () => {
  const viaUrl = (raw: string) => {
    const url = new URL(raw, 'http://local');
    return { path: url.pathname, query: url.search.slice(1) };
  };
  it.each([
    '/oidc/token',
    '/oidc/auth?client_id=a&redirect_uri=https%3A%2F%2Fapp%2Fcb',
    '/v1/users/alice%40example.com/authenticators',
    '/x?',
    '/a?b?c',
    '/a/../v1/clients',
    '/a/./b',
    '/a/..',
    '/%2e%2e/v1/clients',
    '/%2E./x',
    '/a b',
    '/caf\u00e9',
    'http://evil.example/oidc/token?x=1',
  ])('%s', (raw) => {
    expect(splitTarget(raw)).toEqual(viaUrl(raw));
  });
});
