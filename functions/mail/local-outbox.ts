import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Text, Texter } from '../texting/texter.js';
import type { Mail, Mailer } from './mailer.js';

export interface OutboxMessage extends Mail {
  id: string;
  sentAt: string;
}

/** An SMS in the outbox: saved as `{"channel":"sms","to","text",…}`. */
export interface OutboxText extends Text {
  channel: 'sms';
  id: string;
  sentAt: string;
}

export interface LocalOutboxOptions {
  /** Folder that receives one JSON file per mail; none written when undefined. */
  dir?: string;
  /** Where the human-readable block goes (default: stderr). */
  print?: (block: string) => void;
}

const RULE = '─'.repeat(72);

/**
 * The development adapter of the mail and SMS ports. Each mail or SMS is printed to stderr as one
 * block, kept in memory for tests (`messages`, `latest(to)`; `texts`, `latestText(to)`) and saved
 * as `<dir>/<time>-<id>.json` for a developer to open. It is the only place a one-time code is
 * ever printed: nothing else in the product logs message content.
 */
export class LocalOutbox implements Mailer, Texter {
  readonly messages: OutboxMessage[] = [];
  readonly texts: OutboxText[] = [];
  private readonly dir: string | undefined;
  private readonly print: (block: string) => void;

  constructor(opts: LocalOutboxOptions = {}) {
    this.dir = opts.dir === undefined ? undefined : resolve(opts.dir);
    this.print = opts.print ?? ((block) => process.stderr.write(block));
  }

  async send(mail: Mail): Promise<void> {
    const message: OutboxMessage = {
      id: randomUUID(),
      sentAt: new Date().toISOString(),
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      ...(mail.html !== undefined ? { html: mail.html } : {}),
    };
    this.messages.push(message);
    await this.deliver(message, [`to: ${message.to}`, `subject: ${message.subject}`], message.text);
  }

  async sendText(text: Text): Promise<void> {
    const message: OutboxText = {
      channel: 'sms',
      id: randomUUID(),
      sentAt: new Date().toISOString(),
      to: text.to,
      text: text.text,
    };
    this.texts.push(message);
    await this.deliver(message, [`SMS to: ${message.to}`], message.text);
  }

  /** Prints the block and saves the JSON file. */
  private async deliver(
    message: { id: string; sentAt: string },
    head: string[],
    text: string,
  ): Promise<void> {
    this.print(
      [`\n┌${RULE}`, `│ LOCAL OUTBOX  ${head[0]}`, ...head.slice(1).map((h) => `│ ${h}`), `├${RULE}`]
        .concat(text.split('\n').map((line) => `│ ${line}`))
        .concat([`└${RULE}`, ''])
        .join('\n'),
    );
    if (this.dir) {
      await mkdir(this.dir, { recursive: true });
      const stamp = message.sentAt.replace(/[:.]/g, '-');
      await writeFile(join(this.dir, `${stamp}-${message.id}.json`), JSON.stringify(message, null, 2) + '\n');
    }
  }

  /** The most recent SMS to a number (E.164), if any. */
  latestText(to: string): OutboxText | undefined {
    return this.texts.findLast((m) => m.to === to);
  }

  /** The most recent mail to an address (case-insensitive), if any. */
  latest(to: string): OutboxMessage | undefined {
    const wanted = to.toLowerCase();
    for (let i = this.messages.length - 1; i >= 0; i--) {
      if (this.messages[i]!.to.toLowerCase() === wanted) return this.messages[i];
    }
    return undefined;
  }

  clear(): void {
    this.messages.length = 0;
    this.texts.length = 0;
  }
}

const shared = new Map<string, LocalOutbox>();

/**
 * The process-wide outbox for a folder: every region's services in one local server share it, so
 * a test or a page reading `sharedOutbox(dir).latest(to)` sees every mail the server sent.
 */
export function sharedOutbox(dir: string): LocalOutbox {
  const key = resolve(dir);
  let outbox = shared.get(key);
  if (!outbox) {
    outbox = new LocalOutbox({ dir: key });
    shared.set(key, outbox);
  }
  return outbox;
}
