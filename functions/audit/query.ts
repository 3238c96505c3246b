import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from '../errors.js';
import { AuditLog, type AuditPosition } from '../store/audit-log.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Tenant } from '../tenants/tenant.js';
import * as z from '../zod.js';
import { AUDIT_TYPES, type AuditEvent, type AuditType } from './events.js';
import { AUDIT_RETENTION_SECONDS } from './recorder.js';

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;

/** `GET /v1/audit-events` query parameters; anything else is a 400. */
export const auditQuerySchema = z.strictObject({
  since: z.optional(z.iso.datetime({ offset: true })),
  type: z.optional(z.enum(AUDIT_TYPES as [AuditType, ...AuditType[]])),
  userId: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  limit: z.optional(
    z.coerce.number().check(z.int(), z.minimum(1), z.maximum(AUDIT_PAGE_MAX, `at most ${AUDIT_PAGE_MAX}`)),
  ),
  cursor: z.optional(z.string().check(z.maxLength(512))),
});

export type AuditQuery = z.output<typeof auditQuerySchema>;

/**
 * The cursor is opaque and tamper-proof: the position, the tenant and the filters it was made
 * for, with an HMAC-SHA256 keyed by the tenant's secret hash. Another tenant's cursor, an edited
 * one, or one reused with other filters is refused (400); rotating the tenant secret ends the
 * cursors made before it, which is what a rotation after a leak should do.
 */
const cursorKey = (tenant: Tenant) => `audit-cursor:${tenant.id}:${tenant.secretHash}`;
const mac = (tenant: Tenant, payload: string) =>
  createHmac('sha256', cursorKey(tenant)).update(payload).digest('base64url');

interface CursorBody {
  t: string;
  f: string;
  b: number;
  s: string;
}

const filtersOf = (q: AuditQuery) => JSON.stringify([q.since ?? '', q.type ?? '', q.userId ?? '']);

function sealCursor(tenant: Tenant, q: AuditQuery, at: AuditPosition): string {
  const body: CursorBody = { t: tenant.id, f: filtersOf(q), b: at.bucket, s: at.sk };
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${mac(tenant, payload)}`;
}

function openCursor(tenant: Tenant, q: AuditQuery, cursor: string): AuditPosition {
  const invalid = () =>
    badRequest('the cursor is not valid for this tenant and these filters', 'invalid_cursor');
  const [payload, tag, ...rest] = cursor.split('.');
  if (!payload || !tag || rest.length) throw invalid();
  const expected = Buffer.from(mac(tenant, payload));
  const given = Buffer.from(tag);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CursorBody;
  if (body.t !== tenant.id || body.f !== filtersOf(q)) throw invalid();
  return { bucket: body.b, sk: body.s };
}

/**
 * A page of the tenant's audit events, newest first. With `userId` it reads that user's copies
 * (a month per bucket); otherwise the tenant's hour buckets, `type` filtering what they hold.
 * `next_cursor` is absent when there is nothing older; a page may be short (even empty) with a
 * cursor when it stopped at the cap of buckets read per request.
 */
export async function listAuditEvents(
  store: TenantStore,
  tenant: Tenant,
  q: AuditQuery,
  now = Date.now(),
): Promise<{ events: AuditEvent[]; next_cursor?: string }> {
  const oldest = now - AUDIT_RETENTION_SECONDS * 1000;
  const since = Math.max(q.since ? Date.parse(q.since) : oldest, oldest);
  const log = new AuditLog(store, () => now);
  const { events, next } = await log.page({
    since,
    limit: q.limit ?? AUDIT_PAGE_DEFAULT,
    ...(q.type ? { type: q.type } : {}),
    ...(q.userId ? { userId: q.userId } : {}),
    ...(q.cursor ? { after: openCursor(tenant, q, q.cursor) } : {}),
  });
  return { events, ...(next ? { next_cursor: sealCursor(tenant, q, next) } : {}) };
}
