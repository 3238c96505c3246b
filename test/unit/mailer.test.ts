import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SendEmailCommand,
  SESv2Client,
  TooManyRequestsException,
  BadRequestException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { emailCodeMail, mailLocale } from '../../functions/authenticators/email-message.js';
import { LocalOutbox, sharedOutbox } from '../../functions/mail/local-outbox.js';
import { SesMailer } from '../../functions/mail/ses-mailer.js';
import { readConfig } from '../../functions/config.js';
import { BackendUnavailableError } from '../../functions/errors.js';

const ses = mockClient(SESv2Client);
afterAll(() => ses.restore());
beforeEach(() => ses.reset());

const FROM = 'Acme <no-reply@id.example.com>';

describe('SesMailer', () => {
  it('sends one SendEmail with the From address, the recipient, UTF-8 subject, text and HTML', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const mailer = new SesMailer(new SESv2Client({ region: 'us-west-2' }), FROM);
    await mailer.send({ to: 'jane@example.com', subject: 'Código', text: 'hola', html: '<p>hola</p>' });
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
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
    ses.on(SendEmailCommand).resolves({});
    await new SesMailer(new SESv2Client({ region: 'us-west-2' }), FROM).send({
      to: 'a@b.c',
      subject: 's',
      text: 't',
    });
    const body = ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content!.Simple!.Body!;
    expect(body.Html).toBeUndefined();
    expect(body.Text?.Data).toBe('t');
  });

  it('turns SES throttling into BackendUnavailableError (a 503), other errors pass through', async () => {
    const mailer = new SesMailer(new SESv2Client({ region: 'us-west-2', maxAttempts: 1 }), FROM);
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', $metadata: {} }));
    await expect(mailer.send({ to: 'a@b.c', subject: 's', text: 't' })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    ses.on(SendEmailCommand).rejects(new BadRequestException({ message: 'bad address', $metadata: {} }));
    const err = await mailer.send({ to: 'a@b.c', subject: 's', text: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestException);
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

  it('refuses to send from a function whose entry point did not import the SES adapter', async () => {
    const { servicesFor } = await import('../../functions/services.js');
    const services = await servicesFor('eu', awsConfig());
    await expect(services.mailer.send(mail)).rejects.toThrow(/does not import functions\/adapters\/ses\.ts/);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('sends through SES once the entry point imports the adapter, from the configured address', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
    await import('../../functions/adapters/ses.js');
    const { servicesFor } = await import('../../functions/services.js');
    const services = await servicesFor('au', awsConfig());
    await services.mailer.send(mail);
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.FromEmailAddress).toBe(FROM);
    expect(calls[0]!.args[0].input.Destination).toEqual({ ToAddresses: ['jane@example.com'] });
  });
});
