import http, { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { fallbackRoute, findRoute, type Route } from '../functions/routes.js';
import { withSecurityHeaders } from '../functions/http/headers.js';
import { CALLBACK_PATH, callbackPage, demoCallback, isBareLoopbackHost } from './callback-page.js';
import { lambdaContext, splitTarget, toApiGatewayEvent, writeResult } from './http-adapter.js';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload limit; handlers enforce their smaller ones. */
export const MAX_BODY = 10 * 1024 * 1024;
/**
 * How much of a body over the limit is still read (and dropped) so the connection can serve the
 * next keep-alive request: a client a little over the limit keeps its connection; for more junk
 * than this the server answers at once and closes the connection instead.
 */
export const MAX_DRAIN = 1024 * 1024;

const handlers = new Map<string, Promise<Handler>>();
/** Handlers already imported, so a warm route is called without waiting on a promise. */
const loaded = new Map<string, Handler>();
function load(route: Route): Handler | Promise<Handler> {
  const ready = loaded.get(route.handler);
  if (ready) return ready;
  let h = handlers.get(route.handler);
  if (!h) {
    // The module path comes from the route table (never from the request).
    h = import(/* @vite-ignore */ `../functions/handlers/${route.handler}.js`).then(
      (m: { handler: Handler }) => {
        loaded.set(route.handler, m.handler);
        return m.handler;
      },
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

type Body = { kind: 'ok'; body: Buffer } | { kind: 'too-large'; drained: boolean };

/**
 * Reads the body up to `MAX_BODY`. Past it, the rest is read and dropped (up to `MAX_DRAIN` more),
 * so the answer can leave the connection usable; a body declared or found larger than that is not
 * read further (`drained: false`) and the connection is closed after the answer.
 */
function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY + MAX_DRAIN) return resolve({ kind: 'too-large', drained: false });
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
      else if (size > MAX_BODY + MAX_DRAIN) {
        req.off('data', onData);
        req.pause();
        resolve({ kind: 'too-large', drained: false });
      }
    };
    req.on('data', onData);
    req.on('end', () =>
      resolve(
        size > MAX_BODY ? { kind: 'too-large', drained: true } : { kind: 'ok', body: Buffer.concat(chunks) },
      ),
    );
    req.on('error', reject);
  });
}

/** Node's parser errors that name their own status; everything else it refuses is a bad request. */
const PARSER_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'request_header_fields_too_large', 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request took too long to arrive'],
};

/**
 * Node answers what its HTTP parser refuses (a malformed request line, headers over 16 KiB) with
 * an empty 400 or 431; here the answer has the same JSON error body as every other one, and the
 * connection is closed: after a parse error nothing more on it can be trusted.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, error, description] = PARSER_ERRORS[err.code ?? ''] ?? [
    400,
    'invalid_request',
    'the request is not valid HTTP',
  ];
  const body = JSON.stringify({ error, error_description: description });
  const headers = withSecurityHeaders({
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  });
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head}\r\n\r\n${body}`);
}

/**
 * The local stand-in for API Gateway: one Node HTTP server that dispatches the route table to the
 * same Lambda handlers, converting each request into an API Gateway v2 event.
 */
export function createGateway(): Server {
  const server = http.createServer(async (req, res) => {
    try {
      const target = splitTarget(req.url ?? '/');
      const path = target.path;
      const method = (req.method ?? 'GET').toUpperCase();
      const demo = demoCallback();
      // The demo's redirect target, on the bare local host only (local/callback-page.ts).
      if (demo && path === CALLBACK_PATH && method === 'GET' && isBareLoopbackHost(req.headers.host)) {
        return writeResult(res, callbackPage(new URLSearchParams(target.query), demo));
      }
      const found = findRoute(method, path);
      const read = await readBody(req);
      if (read.kind === 'too-large') {
        // Not drained: the rest of the body is still coming, so this connection cannot carry another request.
        if (!read.drained) res.shouldKeepAlive = false;
        return writeResult(
          res,
          jsonError(
            413,
            'payload_too_large',
            'request body too large',
            read.drained ? {} : { connection: 'close' },
          ),
        );
      }
      const body = read.body;
      // What API Gateway sends to its `$default` route goes to the same fallback handler here.
      const route = found && !('allowed' in found) ? found.route : fallbackRoute;
      const params = found && !('allowed' in found) ? found.params : {};
      const loading = load(route);
      const handler = loading instanceof Promise ? await loading : loading;
      const routeKey = route === fallbackRoute ? '$default' : `${method} ${route.path}`;
      const event = toApiGatewayEvent(req, body, routeKey, params, target);
      return writeResult(res, await handler(event, lambdaContext(route.id)));
    } catch (err) {
      console.error('local gateway error', err);
      if (!res.headersSent)
        writeResult(res, jsonError(500, 'server_error', 'the server could not process the request'));
    }
  });
  server.on('clientError', answerClientError);
  return server;
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  return (server.address() as AddressInfo).port;
}
