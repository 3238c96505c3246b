/**
 * The local server at the socket level (issue 9, item 16), the way a careless or hostile client
 * talks to it: a body over the limit is answered 413 and the rest of it is read and dropped, so the
 * next request on the same keep-alive connection is answered; a body far over the limit is
 * answered 413 with `connection: close` and a clean close; requests Node's parser refuses (a
 * malformed request line, headers too large) get JSON error bodies, never an empty answer.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY, MAX_DRAIN } from '../../local/server.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);

afterAll(async () => {
  await server.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits the bytes a server sent into the HTTP/1.1 responses they hold (content-length bodies). */
function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = data;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return out;
    const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (rest.length < end + 4 + length) return out;
    out.push({
      status: Number(statusLine!.split(' ')[1]),
      headers,
      body: rest.subarray(end + 4, end + 4 + length).toString('utf8'),
    });
    rest = rest.subarray(end + 4 + length);
  }
}

/**
 * Writes `chunks` to a fresh connection and collects what comes back until the server has sent
 * `responses` answers or closed. `closed` says how the connection ended: `end` (a clean FIN),
 * `reset` (ECONNRESET) or `open` (still open, as keep-alive should leave it).
 */
function exchange(
  chunks: (string | Buffer)[],
  responses: number,
): Promise<{ responses: RawResponse[]; closed: 'end' | 'reset' | 'open' }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.port });
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closed: 'end' | 'reset' | 'open') => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ responses: parseResponses(data), closed });
    };
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      if (parseResponses(data).length >= responses) setTimeout(() => finish('open'), 50);
    });
    socket.on('end', () => finish('end'));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish('reset') : reject(err),
    );
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
    });
  });
}

const HEALTH = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n';

function post(length: number): string {
  return `POST /health HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;
}

describe('bodies over the limit', () => {
  it('answers 413 in JSON, reads the rest of the body, and answers the next request on the same connection', async () => {
    const length = MAX_BODY + MAX_DRAIN;
    const { responses, closed } = await exchange([post(length), Buffer.alloc(length, 0x61), HEALTH], 2);
    expect(responses.map((r) => r.status)).toEqual([413, 200]);
    expect(responses[0]!.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(responses[0]!.body)).toMatchObject({ error: 'payload_too_large' });
    expect(closed).toBe('open');
  });

  it('answers 413 with connection: close and closes cleanly when the body is far over the limit', async () => {
    const { responses, closed } = await exchange(
      [post(MAX_BODY + MAX_DRAIN + 1), Buffer.alloc(1024, 0x61)],
      1,
    );
    expect(responses).toHaveLength(1);
    expect(responses[0]!.status).toBe(413);
    expect(responses[0]!.headers.connection).toBe('close');
    expect(JSON.parse(responses[0]!.body)).toMatchObject({ error: 'payload_too_large' });
    expect(closed).not.toBe('reset');
  });
});

describe("Node's own refusals", () => {
  it('answers a malformed request with 400 and a JSON body', async () => {
    const { responses } = await exchange(['NOT A REQUEST\r\n\r\n'], 1);
    expect(responses).toHaveLength(1);
    expect(responses[0]!.status).toBe(400);
    expect(responses[0]!.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(responses[0]!.body)).toMatchObject({ error: 'invalid_request' });
  });

  it('answers headers that are too large with 431 and a JSON body', async () => {
    const big = `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    const { responses } = await exchange([big], 1);
    expect(responses).toHaveLength(1);
    expect(responses[0]!.status).toBe(431);
    expect(responses[0]!.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(responses[0]!.body)).toMatchObject({ error: 'request_header_fields_too_large' });
  });
});
