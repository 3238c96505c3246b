import type { LookupFunction } from 'node:net';
import {
  request as httpRequest,
  type Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * One HTTP exchange over node:http(s): the request, then the whole answer, within a time limit.
 * Every outbound call of the functions goes through here: the AWS JSON APIs (`aws/json-api.ts`,
 * with keep-alive agents of their own) and the guarded client for URLs someone else chose
 * (`guarded-fetch.ts`, with its address-checking DNS lookup).
 *
 * Why not `fetch`: in Node 20 and 22 `fetch` is undici behind web streams, AbortSignal and
 * Headers objects. Measured on the development machine (one core, loopback, the same small JSON
 * POST): the first `fetch` of a process took 45–88 ms (undici and web streams load on first use:
 * a cold start paid it on its first DynamoDB call) against 8–9 ms, and each later exchange about
 * 1.1 ms of CPU, client and server, against 0.2 ms.
 */

export interface ExchangeRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange, connection included. */
  timeoutMs: number;
  /** A larger answer is abandoned (`code: 'ETOOLARGE'`): the other end could stream forever. */
  maxBytes?: number;
  /** Connection pool (else Node's global agent). */
  agent?: Agent;
  /** DNS lookup for the connection (else Node's). */
  lookup?: LookupFunction;
}

export interface ExchangeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The exchange ran out of time (the name AWS SDK retry logs and `fetch`'s timeout use). */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

const failure = (message: string, code: string) => Object.assign(new Error(message), { code });

/**
 * Sends the request and reads the whole answer. A network failure, an answer cut off before its
 * end, one over `maxBytes`, or the time limit rejects; no redirect is followed.
 */
export function exchange(url: URL, req: ExchangeRequest): Promise<ExchangeResponse> {
  return new Promise<ExchangeResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, res?: ExchangeResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res!);
    };
    const maxBytes = req.maxBytes ?? Number.POSITIVE_INFINITY;
    const outgoing = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: req.method,
        headers: {
          ...req.headers,
          ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}),
        },
        ...(req.agent ? { agent: req.agent } : {}),
        ...(req.lookup ? { lookup: req.lookup } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxBytes) return void chunks.push(chunk);
          finish(failure('answer too large', 'ETOOLARGE'));
          res.destroy();
        });
        res.on('error', (err) => finish(err));
        // A connection dropped mid-answer closes the response without its end.
        res.on('close', () => {
          if (!res.complete) finish(failure('connection closed mid-answer', 'ECONNRESET'));
        });
        res.on('end', () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    const timer = setTimeout(() => {
      const err = new TimeoutError(`no answer within ${req.timeoutMs} ms`);
      finish(err);
      outgoing.destroy(err);
    }, req.timeoutMs);
    outgoing.on('error', (err) => finish(err));
    outgoing.end(req.body);
  });
}
