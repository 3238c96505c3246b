import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One HTTP exchange with an AWS endpoint, over node:http(s) with keep-alive connections.
 *
 * Why not `fetch`: in Node 20 and 22 `fetch` is undici behind web streams, AbortSignal and
 * Headers objects. Measured on the development machine (one core, loopback, the same small JSON
 * POST): the first `fetch` of a process took 45–88 ms (undici and web streams load on first use:
 * a cold start pays it on its first DynamoDB call) against 8–9 ms, and each later exchange about
 * 1.1 ms of CPU, client and server, against 0.2 ms. A federated flow makes five DynamoDB calls.
 */

export interface AwsResponse {
  status: number;
  /** A response header by its lower-case name. */
  header(name: string): string | undefined;
  text: string;
}

/** The attempt ran out of time (the name the retry log and `fetch`'s timeout used). */
export class TransportTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

// Keep-alive: a warm container reuses its connection to the endpoint (TLS set up once). A socket
// the endpoint closed while the container was frozen fails its next request, and the caller retries.
const agents = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
};

/**
 * Sends `body` and reads the whole answer, all within `timeoutMs` (connection included). Any
 * network failure, a connection dropped mid-answer, or the timeout rejects.
 */
export function exchange(
  url: URL,
  init: { method: string; body: string; headers: Record<string, string> },
  timeoutMs: number,
): Promise<AwsResponse> {
  return new Promise<AwsResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, res?: AwsResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res!);
    };
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: init.method,
        // `host` is among the signed headers and goes as signed.
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
        agent: https ? agents['https:'] : agents['http:'],
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => finish(err));
        // A connection dropped mid-answer closes the response without its end.
        res.on('close', () => {
          if (!res.complete)
            finish(Object.assign(new Error('connection closed mid-answer'), { code: 'ECONNRESET' }));
        });
        res.on('end', () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            header: (name) => {
              const v = res.headers[name];
              return Array.isArray(v) ? v[0] : v;
            },
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    const timer = setTimeout(() => {
      const err = new TransportTimeoutError(`no answer within ${timeoutMs} ms`);
      finish(err);
      req.destroy(err);
    }, timeoutMs);
    req.on('error', (err) => finish(err));
    req.end(init.body);
  });
}
