/**
 * Back-channel logout through the queue: the SQS adapter sends SigV4-signed AWS JSON 1.0
 * `SendMessageBatch` calls of at most ten entries, and the queue's consumer POSTs each token to a
 * real receiver, reports failures per message, drops expired tokens and refuses private addresses;
 * the logout hands its tokens to whichever delivery is configured and survives the queue failing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent } from 'aws-lambda';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqsLogoutDelivery } from '../../functions/adapters/sqs-logout.js';
import { endpointFor } from '../../functions/aws/json-api.js';
import { allowLocalDelivery } from '../../functions/clients/backchannel-uri.js';
import type { ClientRepository } from '../../functions/clients/client-repository.js';
import { readConfig } from '../../functions/config.js';
import { handler } from '../../functions/jobs/deliver-logout.js';
import { notifyLogout } from '../../functions/oidc/backchannel-logout.js';
import type { LogoutJob } from '../../functions/oidc/logout-delivery.js';
import type { EndedSession } from '../../functions/sessions/session.js';
import type { Signer } from '../../functions/signing/signer.js';
import { AwsFault, startAwsEndpoint, type AwsEndpoint } from '../support/aws-endpoint.js';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/logout';

describe('SQS logout delivery (AWS JSON 1.0)', () => {
  let sqs: AwsEndpoint;
  const headers: { target?: string; contentType?: string }[] = [];
  beforeAll(async () => {
    sqs = await startAwsEndpoint(
      'sqs',
      'sqs',
      'eu-west-1',
      (req) => {
        headers.push({
          target: req.headers['x-amz-target'] as string,
          contentType: req.headers['content-type'],
        });
        return String(req.headers['x-amz-target']).replace(/^AmazonSQS\./, '');
      },
      (operation, input) => {
        if (operation !== 'SendMessageBatch') throw new Error(`unexpected ${operation}`);
        const entries = input.Entries as { Id: string }[];
        return { Successful: entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] };
      },
    );
  });
  afterAll(() => sqs.close());

  it('sends each job as one message, ten to a signed SendMessageBatch', async () => {
    const jobs: LogoutJob[] = Array.from({ length: 23 }, (_, i) => ({
      clientId: `client-${i}`,
      uri: `https://rp${i}.example.com/bcl`,
      logoutToken: `token-${i}`,
    }));
    await sqsLogoutDelivery(sqs.client(), QUEUE).deliver(jobs);
    expect(sqs.calls.map((c) => c.operation)).toEqual([
      'SendMessageBatch',
      'SendMessageBatch',
      'SendMessageBatch',
    ]);
    expect(headers.every((h) => h.target === 'AmazonSQS.SendMessageBatch')).toBe(true);
    expect(headers.every((h) => h.contentType === 'application/x-amz-json-1.0')).toBe(true);
    const entries = sqs.calls.flatMap((c) => {
      expect(c.input.QueueUrl).toBe(QUEUE);
      return c.input.Entries as { Id: string; MessageBody: string }[];
    });
    expect(sqs.calls.map((c) => (c.input.Entries as unknown[]).length).sort()).toEqual([10, 10, 3]);
    const sent = entries.map((e) => JSON.parse(e.MessageBody) as LogoutJob);
    expect(sent.sort((a, b) => a.clientId.localeCompare(b.clientId, 'en', { numeric: true }))).toEqual(jobs);
  });

  it('throws when SQS cannot be reached, so the caller logs the deliveries as failed', async () => {
    sqs.answer = () => {
      throw new AwsFault('AWS.SimpleQueueService.NonExistentQueue', 400);
    };
    await expect(
      sqsLogoutDelivery(sqs.client(), QUEUE).deliver([
        { clientId: 'c', uri: 'https://rp.example.com', logoutToken: 't' },
      ]),
    ).rejects.toThrow(/local sqs/);
    sqs.answer = undefined;
  });

  it('resolves the SQS endpoint like the SDK (AWS_ENDPOINT_URL_SQS first)', () => {
    expect(endpointFor('sqs', 'eu-west-1', {})).toBe('https://sqs.eu-west-1.amazonaws.com');
    expect(endpointFor('sqs', 'eu-west-1', { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324/' })).toBe(
      'http://127.0.0.1:9324',
    );
  });
});

describe('the logout queue consumer (jobs/deliver-logout.ts)', () => {
  let receiver: Server;
  let base: string;
  const received: { path: string; contentType: string | undefined; form: URLSearchParams }[] = [];
  const key = new TextEncoder().encode('a test key of thirty-two bytes!!');
  const token = (expIn: number) =>
    new SignJWT({ sid: 's' })
      .setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expIn)
      .sign(key);
  const event = (jobs: LogoutJob[] | string[]): SQSEvent =>
    ({
      Records: jobs.map((job, i) => ({
        messageId: `msg-${i}`,
        body: typeof job === 'string' ? job : JSON.stringify(job),
        attributes: { ApproximateReceiveCount: '1' },
      })),
    }) as unknown as SQSEvent;

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        received.push({
          path: req.url!,
          contentType: req.headers['content-type'],
          form: new URLSearchParams(data),
        });
        res.writeHead(req.url!.startsWith('/fail') ? 500 : 200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  afterEach(() => {
    received.length = 0;
    allowLocalDelivery(false);
  });

  it('POSTs each token as a form and reports only the failed messages for retry', async () => {
    allowLocalDelivery(true);
    const good = await token(120);
    const out = await handler(
      event([
        { clientId: 'a', uri: `${base}/ok`, logoutToken: good },
        { clientId: 'b', uri: `${base}/fail`, logoutToken: good },
        { clientId: 'c', uri: `${base}/ok2`, logoutToken: good },
      ]),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(received.map((r) => r.path).sort()).toEqual(['/fail', '/ok', '/ok2']);
    for (const r of received) {
      expect(r.contentType).toBe('application/x-www-form-urlencoded');
      expect(r.form.get('logout_token')).toBe(good);
    }
  });

  it('drops a message whose logout token has expired, without calling the relying party', async () => {
    allowLocalDelivery(true);
    const out = await handler(event([{ clientId: 'a', uri: `${base}/ok`, logoutToken: await token(-1) }]));
    expect(out.batchItemFailures).toEqual([]);
    expect(received).toEqual([]);
  });

  it('drops a message that is not a logout job', async () => {
    const out = await handler(event(['not json', JSON.stringify({ clientId: 'a' })]));
    expect(out.batchItemFailures).toEqual([]);
  });

  it('refuses loopback and private addresses on AWS, and reports them as failures', async () => {
    const good = await token(120);
    const out = await handler(
      event([
        { clientId: 'a', uri: `${base}/ok`, logoutToken: good },
        { clientId: 'b', uri: 'https://10.0.0.1/bcl', logoutToken: good },
        { clientId: 'c', uri: 'https://localhost/bcl', logoutToken: good },
      ]),
    );
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['msg-0', 'msg-1', 'msg-2']);
    expect(received).toEqual([]);
  });
});

describe('notifyLogout hands the signed tokens to the configured delivery', () => {
  const session = {
    sid: 'sid-1',
    userId: 'user-1',
    clients: ['a', 'b', 'a', 'none'],
  } as unknown as EndedSession;
  const clients = {
    get: (id: string) =>
      Promise.resolve(
        id === 'none'
          ? { client_id: id, id_token_signed_response_alg: 'RS256' }
          : {
              client_id: id,
              backchannel_logout_uri: `https://${id}.example.com/bcl`,
              id_token_signed_response_alg: 'RS256',
            },
      ),
  } as unknown as ClientRepository;
  const signer = {
    signJwt: (claims: Record<string, unknown>) => Promise.resolve(`jwt:${String(claims.aud)}`),
  } as unknown as Signer;

  it('one job per client with a URI, once per client', async () => {
    const delivered: LogoutJob[] = [];
    await notifyLogout([session], {
      clients,
      signer,
      issuer: 'https://acme.eu.example.com/oidc',
      delivery: { deliver: (jobs) => Promise.resolve(void delivered.push(...jobs)) },
    });
    expect(delivered).toEqual([
      { clientId: 'a', uri: 'https://a.example.com/bcl', logoutToken: 'jwt:a' },
      { clientId: 'b', uri: 'https://b.example.com/bcl', logoutToken: 'jwt:b' },
    ]);
  });

  it('a queue that cannot be reached does not fail the logout', async () => {
    await expect(
      notifyLogout([session], {
        clients,
        signer,
        issuer: 'https://acme.eu.example.com/oidc',
        delivery: { deliver: () => Promise.reject(new Error('queue down')) },
      }),
    ).resolves.toBeUndefined();
  });

  it('LOGOUT_QUEUE_URL selects the queue; unset, delivery is in-process', () => {
    expect(readConfig({ LOGOUT_QUEUE_URL: QUEUE }).logoutQueueUrl).toBe(QUEUE);
    expect(readConfig({}).logoutQueueUrl).toBeUndefined();
  });
});
