import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import type { AuditEvent } from '../../functions/audit/events.js';
import { LocalOutbox, type OutboxText } from '../../functions/mail/local-outbox.js';
import { servicesFor } from '../../functions/services.js';
import { basic, http } from './server.js';

/** What the SMS tests need of a tenant. */
interface SmsTenant {
  origin: string;
  secret: string;
}

/** `PATCH /v1/settings` `{"sms":{"allowedCountries":[…]}}` with the tenant secret. */
export async function allowSmsCountries(t: SmsTenant, countries: string[]): Promise<void> {
  const res = await http(`${t.origin}/v1/settings`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: basic(t.secret) },
    body: JSON.stringify({ sms: { allowedCountries: countries } }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** `POST /v1/users/{userId}/authenticators` `{"type":"SMS","phoneNumber":number}`: a pre-verified number. */
export async function enrollSmsNumber(t: SmsTenant, userId: string, number: string): Promise<void> {
  const res = await http(`${t.origin}/v1/users/${encodeURIComponent(userId)}/authenticators`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(t.secret) },
    body: JSON.stringify({ type: 'SMS', phoneNumber: number }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

/**
 * A fresh New Zealand mobile number (021 …), E.164. The subscriber number starts with 2–9: 021
 * numbers beginning 0 or 1 are grouped otherwise (+64 210 000 027), and the masked form the pages
 * show follows the grouping.
 */
export const nzMobile = () => `+6421${randomInt(2, 10)}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
/** A fresh US number (the NANP has no separate mobile ranges), E.164. */
export const usMobile = () => `+1201555${String(randomInt(0, 10_000)).padStart(4, '0')}`;

/** The local outbox the in-process server texts through (`functions/services.ts`). */
export async function smsOutbox(): Promise<LocalOutbox> {
  const texter = (await servicesFor('us')).texter;
  if (!(texter instanceof LocalOutbox)) throw new Error('the local server should text to the local outbox');
  return texter;
}

/** Every SMS to `number` so far. */
export async function textsTo(number: string): Promise<OutboxText[]> {
  return (await smsOutbox()).texts.filter((m) => m.to === number);
}

/** The 6-digit code of the latest SMS to `number`. */
export async function textedCode(number: string): Promise<string> {
  const text = (await smsOutbox()).latestText(number);
  expect(text, `an SMS to ${number}`).toBeDefined();
  const code = /^(\d{6}) /.exec(text!.text)?.[1];
  expect(code, text!.text).toBeDefined();
  return code!;
}

/** The tenant's audit events of one type (last hour). */
export async function auditOf(t: SmsTenant, type: string): Promise<AuditEvent[]> {
  const since = new Date(Date.now() - 3600_000).toISOString();
  const res = await http(`${t.origin}/v1/audit-events?${new URLSearchParams({ since, type })}`, {
    headers: { authorization: basic(t.secret) },
  });
  const json = (await res.json()) as { events: AuditEvent[] };
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json.events;
}
