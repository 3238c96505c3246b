import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsV4Signer } from 'aws4fetch';
import {
  AwsApi,
  staticCredentials,
  type AwsApiOptions,
  type AwsCredentials,
  type AwsService,
} from '../../functions/aws/json-api.js';

/**
 * The common part of the local AWS endpoints of the tests (kms-endpoint.ts, ses-endpoint.ts): an
 * HTTP server on a free port that accepts only requests signed with SigV4 by the test's
 * credentials, for the expected service and region (the signature is recomputed and compared), and
 * answers AWS-style JSON errors.
 */
export const TEST_CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIDLOCALTEST',
  secretAccessKey: 'local-test-secret',
  sessionToken: 'local-session-token',
};

/** Returned by `answer`: cut the connection without answering. */
export const DROP = Symbol('drop the connection');

export class AwsFault extends Error {
  constructor(
    readonly code: string,
    readonly status = 400,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

/** Checks the request's SigV4 `Authorization` header; returns why not, or undefined when it is right. */
export async function sigV4Problem(
  req: IncomingMessage,
  body: string,
  signingName: string,
  region: string,
): Promise<string | undefined> {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return `no SigV4 Authorization header: ${auth || '(none)'}`;
  const [, akid, , scopeRegion, service, signed] = m;
  if (akid !== TEST_CREDENTIALS.accessKeyId) return `signed by ${akid}`;
  if (service !== signingName || scopeRegion !== region)
    return `signed for ${service}/${scopeRegion}, not ${signingName}/${region}`;
  const names = signed!.split(';').filter((h) => h !== 'host');
  const headers: Record<string, string> = {};
  for (const h of names) headers[h] = String(req.headers[h] ?? '');
  const signer = new AwsV4Signer({
    method: req.method ?? 'POST',
    url: `http://${req.headers.host}${req.url}`,
    headers,
    body,
    ...TEST_CREDENTIALS,
    service: signingName,
    region,
    datetime: String(req.headers['x-amz-date']),
    allHeaders: true,
  });
  const expected = (await signer.sign()).headers.get('authorization');
  return expected === auth ? undefined : 'the signature does not match';
}

export interface AwsEndpoint {
  url: string;
  region: string;
  /** Every request that reached an operation, in order. */
  calls: { operation: string; input: Record<string, unknown> }[];
  /**
   * Decides each answer (default: `real()`): a test may change it, throw an `AwsFault` (answered as
   * AWS would) or return `DROP` (the connection is cut without an answer).
   */
  answer?: (operation: string, input: Record<string, unknown>, real: () => unknown) => unknown;
  /** A client of the service pointed at this endpoint, with the test credentials. */
  client(opts?: Partial<AwsApiOptions>): AwsApi;
  close(): Promise<void>;
}

export async function startAwsEndpoint(
  service: AwsService,
  signingName: string,
  region: string,
  /** The operation a request names (X-Amz-Target, or the REST path). */
  operationOf: (req: IncomingMessage) => string,
  handle: (operation: string, input: Record<string, unknown>) => unknown,
): Promise<AwsEndpoint> {
  const endpoint: AwsEndpoint = {
    url: '',
    region,
    calls: [],
    client: (opts = {}) =>
      new AwsApi({
        service,
        region,
        endpoint: endpoint.url,
        credentials: staticCredentials(TEST_CREDENTIALS),
        backoffMs: 1,
        ...opts,
      }),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      void (async () => {
        const problem = await sigV4Problem(req, body, signingName, region);
        if (problem) return answer(res, 403, { __type: 'InvalidSignatureException', message: problem });
        const operation = operationOf(req);
        const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
        endpoint.calls.push({ operation, input });
        try {
          const real = () => handle(operation, input);
          const out = endpoint.answer ? endpoint.answer(operation, input, real) : real();
          if (out === DROP) return req.socket.destroy();
          answer(res, 200, out);
        } catch (err) {
          if (!(err instanceof AwsFault)) throw err;
          answer(res, err.status, {
            __type: err.code,
            message: `local ${service}: ${err.code}`,
            ...err.fields,
          });
        }
      })().catch((err: unknown) => answer(res, 500, { __type: 'InternalFailure', message: String(err) }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return endpoint;
}
