import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsApiError } from '../../functions/aws/json-api.js';
import { emailCodeMail, mailLocale } from '../../functions/authenticators/email-message.js';
import { LocalOutbox, sharedOutbox } from '../../functions/mail/local-outbox.js';
import { SesMailer } from '../../functions/mail/ses-mailer.js';
import { readConfig } from '../../functions/config.js';
import { BackendUnavailableError } from '../../functions/errors.js';
import { REGIONS } from '../../functions/regions.js';
import { AwsFault, TEST_CREDENTIALS, type AwsEndpoint } from '../support/aws-endpoint.js';
import { startSesEndpoint } from '../support/ses-endpoint.js';

/** A local SES v2 endpoint over HTTP (SigV4 checked), recording what it is sent. */
let ses: AwsEndpoint;
beforeAll(async () => {
  ses = await startSesEndpoint();
});
afterAll(() => ses.close());
beforeEach(() => {
  ses.calls.length = 0;
  ses.answer = undefined;
});
const sent = () => ses.calls.filter((c) => c.operation === 'SendEmail').map((c) => c.input);

const FROM = 'Acme <no-reply@id.example.com>';

describe('SesMailer', () => {
  it('sends one SendEmail with the From address, the recipient, UTF-8 subject, text and HTML', async () => {
    const mailer = new SesMailer(ses.client(), FROM);
    await mailer.send({ to: 'jane@example.com', subject: 'Código', text: 'hola', html: '<p>hola</p>' });
    const calls = sent();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({
      FromEmailAddress: FROM,
      Destination: { ToAddresses: ['jane@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Código', Charset: 'UTF-8' },
          Body: { Text: { Data: 'hola', Charset: 'UTF-8' }, Html: { Data: '<p>hola</p>', Charset: 'UTF-8' } },
        },
      },
    });
  });

  it('leaves out the HTML part when there is none', async () => {
    await new SesMailer(ses.client(), FROM).send({
      to: 'a@b.c',
      subject: 's',
      text: 't',
    });
    const body = (sent()[0] as { Content: { Simple: { Body: { Html?: unknown; Text?: { Data: string } } } } })
      .Content.Simple.Body;
    expect(body.Html).toBeUndefined();
    expect(body.Text?.Data).toBe('t');
  });

  it('turns SES throttling into BackendUnavailableError (a 503), other errors pass through', async () => {
    const mailer = new SesMailer(ses.client({ maxAttempts: 1 }), FROM);
    ses.answer = () => {
      throw new AwsFault('TooManyRequestsException', 429);
    };
    await expect(mailer.send({ to: 'a@b.c', subject: 's', text: 't' })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    ses.answer = () => {
      throw new AwsFault('BadRequestException', 400);
    };
    const err = await mailer.send({ to: 'a@b.c', subject: 's', text: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsApiError);
    expect((err as Error).name).toBe('BadRequestException');
    expect(err).not.toBeInstanceOf(BackendUnavailableError);
  });
});

describe('LocalOutbox', () => {
  it('prints one block, keeps the message for tests and writes it as JSON', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'outbox-')), 'nested', 'outbox');
    const printed: string[] = [];
    const outbox = new LocalOutbox({ dir, print: (b) => printed.push(b) });
    await outbox.send({ to: 'Jane@Example.com', subject: 'First', text: 'line 1\nline 2' });
    await outbox.send({ to: 'other@example.com', subject: 'Other', text: 'x' });
    await outbox.send({ to: 'jane@example.com', subject: 'Second', text: 'y', html: '<b>y</b>' });

    expect(outbox.messages.map((m) => m.subject)).toEqual(['First', 'Other', 'Second']);
    expect(outbox.latest('JANE@example.com')?.subject).toBe('Second');
    expect(outbox.latest('nobody@example.com')).toBeUndefined();

    expect(printed).toHaveLength(3);
    expect(printed[0]).toContain('to: Jane@Example.com');
    expect(printed[0]).toContain('subject: First');
    expect(printed[0]).toContain('│ line 1\n│ line 2');

    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(3);
    const saved = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
    expect(saved.map((m) => m.subject).sort()).toEqual(['First', 'Other', 'Second']);
    const second = saved.find((m) => m.subject === 'Second')!;
    expect(second).toMatchObject({ to: 'jane@example.com', text: 'y', html: '<b>y</b>' });
    expect(typeof second.id).toBe('string');
    expect(Number.isNaN(Date.parse(second.sentAt as string))).toBe(false);

    outbox.clear();
    expect(outbox.messages).toEqual([]);
  });

  it('writes no file without a folder, and sharedOutbox is one instance per folder', async () => {
    const outbox = new LocalOutbox({ print: () => {} });
    await outbox.send({ to: 'a@b.c', subject: 's', text: 't' });
    expect(outbox.messages).toHaveLength(1);
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    expect(sharedOutbox(dir)).toBe(sharedOutbox(join(dir, '.')));
    expect(sharedOutbox(dir)).not.toBe(sharedOutbox(join(dir, 'other')));
  });
});

describe('code mail', () => {
  it('says the tenant name and the 10-minute expiry, in English by default', () => {
    const mail = emailCodeMail({ to: 'a@b.c', code: '012345', tenantName: 'Acme' });
    expect(mail.subject).toBe('Your Acme verification code (expires in 10 minutes)');
    expect(mail.text).toContain('Your Acme verification code is:');
    expect(mail.text).toContain('012345');
    expect(mail.text).toContain('expires in 10 minutes');
    expect(mail.html).toContain('lang="en"');
    expect(mail.html).toContain('012345');
  });

  it('speaks Spanish for es, es-ES, es_MX', () => {
    for (const locale of ['es', 'es-ES', 'es_MX', 'ES']) {
      const mail = emailCodeMail({ to: 'a@b.c', code: '999999', tenantName: 'Acme', locale });
      expect(mail.subject).toBe('Tu código de verificación de Acme (caduca en 10 minutos)');
      expect(mail.text).toContain('Caduca en 10 minutos');
      expect(mail.text).toContain('999999');
    }
    expect(mailLocale('fr-FR')).toBe('en');
    expect(mailLocale(undefined)).toBe('en');
  });

  it('escapes the tenant name in HTML and keeps line breaks out of the subject', () => {
    const mail = emailCodeMail({ to: 'a@b.c', code: '123456', tenantName: '<Evil>\r\nBcc: x@y.z' });
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.html).toContain('&lt;Evil&gt;');
    expect(mail.html).not.toContain('<Evil>');
  });
});

describe('the mailer of a Lambda function (functions/services.ts, functions/adapters/ses.ts)', () => {
  const awsConfig = () =>
    readConfig({
      SIGNER: 'tenant',
      SECRET_BOX: 'kms',
      SECRETS_KEY_ID: 'alias/secrets',
      MAILER: 'ses',
      MAIL_FROM: FROM,
    });
  const mail = { to: 'jane@example.com', subject: 'Code', text: '123456', html: '<p>123456</p>' };
  // The function finds SES as the SDK would: AWS_ENDPOINT_URL_SESV2, and its role's credentials in
  // the environment; here a local SES endpoint in the region of `au`.
  let regional: AwsEndpoint;
  const saved = { ...process.env };
  beforeAll(async () => {
    regional = await startSesEndpoint(REGIONS.au.awsRegion);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SESV2: regional.url,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
    });
  });
  afterAll(async () => {
    for (const k of [
      'AWS_ENDPOINT_URL_SESV2',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
    ])
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    await regional.close();
  });

  it('refuses to send from a function whose entry point did not import the SES adapter', async () => {
    const { servicesFor } = await import('../../functions/services.js');
    const services = await servicesFor('eu', awsConfig());
    await expect(services.mailer.send(mail)).rejects.toThrow(/does not import functions\/adapters\/ses\.ts/);
    expect(regional.calls).toHaveLength(0);
  });

  it('sends through SES once the entry point imports the adapter, from the configured address', async () => {
    await import('../../functions/adapters/ses.js');
    const { servicesFor } = await import('../../functions/services.js');
    const services = await servicesFor('au', awsConfig());
    await services.mailer.send(mail);
    const calls = regional.calls.filter((c) => c.operation === 'SendEmail');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.input.FromEmailAddress).toBe(FROM);
    expect(calls[0]!.input.Destination).toEqual({ ToAddresses: ['jane@example.com'] });
  });
});
