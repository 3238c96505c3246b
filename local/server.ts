import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { fallbackRoute, findRoute, type Route } from '../functions/routes.js';
import { withSecurityHeaders } from '../functions/http/headers.js';
import { lambdaContext, toApiGatewayEvent, writeResult } from './http-adapter.js';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload limit; handlers enforce their smaller ones. */
const MAX_BODY = 10 * 1024 * 1024;

const handlers = new Map<string, Promise<Handler>>();
function load(route: Route): Promise<Handler> {
  let h = handlers.get(route.handler);
  if (!h) {
    // The module path comes from the route table (never from the request).
    h = import(/* @vite-ignore */ `../functions/handlers/${route.handler}.js`).then(
      (m: { handler: Handler }) => m.handler,
    );
    handlers.set(route.handler, h);
  }
  return h;
}

function jsonError(status: number, error: string, description: string, extra: Record<string, string> = {}) {
  return {
    statusCode: status,
    headers: withSecurityHeaders({ 'content-type': 'application/json; charset=utf-8', ...extra }),
    body: JSON.stringify({ error, error_description: description }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The local stand-in for API Gateway: one Node HTTP server that dispatches the route table to the
 * same Lambda handlers, converting each request into an API Gateway v2 event.
 */
export function createGateway(): Server {
  return http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      const method = (req.method ?? 'GET').toUpperCase();
      const found = findRoute(method, path);
      const body = await readBody(req);
      if (body === undefined)
        return writeResult(res, jsonError(413, 'payload_too_large', 'request body too large'));
      // What API Gateway sends to its `$default` route goes to the same fallback handler here.
      const route = found && !('allowed' in found) ? found.route : fallbackRoute;
      const params = found && !('allowed' in found) ? found.params : {};
      const handler = await load(route);
      const routeKey = route === fallbackRoute ? '$default' : `${method} ${route.path}`;
      const event = toApiGatewayEvent(req, body, routeKey, params);
      return writeResult(res, await handler(event, lambdaContext(route.id)));
    } catch (err) {
      console.error('local gateway error', err);
      if (!res.headersSent)
        writeResult(res, jsonError(500, 'server_error', 'the server could not process the request'));
    }
  });
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  return (server.address() as AddressInfo).port;
}
