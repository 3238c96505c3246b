import { randomBytes } from 'node:crypto';
import type { AuditRecorder } from '../audit/recorder.js';
import { AUDIT_RETENTION_SECONDS } from '../audit/recorder.js';
import {
  defaultOutcome,
  MAX_USER_AGENT,
  subjectOf,
  type AuditEvent,
  type AuditEventBody,
  type AuditSource,
  type AuditType,
  type Outcome,
} from '../audit/events.js';
import { logger } from '../log.js';
import type { Item, Key, WriteOp } from './store.js';
import type { TenantStore } from './tenant-store.js';

/**
 * Audit events in the tenant's partition space of the region's table (so in the tenant's region).
 *
 * Layout — the tenant's stream in hour buckets, and a copy of each event about a user in that
 * user's month buckets:
 *   pk `audit#<YYYY-MM-DDTHH>`             sk `<inverted ms, 13 digits>#<8 random bytes, hex>`
 *   pk `audit-user#<userId>#<YYYY-MM>`     sk  the same
 * The sort key counts down from 9999999999999, so DynamoDB's ascending order within a bucket is
 * newest first; the random suffix keeps two events of the same millisecond apart. Bucketing
 * bounds what one page reads (an hour of the tenant, a month of one user) and needs no index: the
 * Store port has no reverse or limited query, so a bucket is read whole.
 */
const MAX_MS = 9_999_999_999_999;
const HOUR = 3600_000;

export const auditSortKey = (ms: number, suffix: string) =>
  `${String(MAX_MS - ms).padStart(13, '0')}#${suffix}`;

const hourStart = (ms: number) => Math.floor(ms / HOUR) * HOUR;
const monthStart = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

/** One stream: the whole tenant (hours) or one user (months). */
interface Stream {
  pk(bucketStart: number): string;
  start(ms: number): number;
  previous(bucketStart: number): number;
  /** At most this many buckets are read for one page (its cursor continues from there). */
  cap: number;
}

const tenantStream: Stream = {
  pk: (b) => `audit#${new Date(b).toISOString().slice(0, 13)}`,
  start: hourStart,
  previous: (b) => b - HOUR,
  cap: 7 * 24,
};

const userStream = (userId: string): Stream => ({
  pk: (b) => `audit-user#${userId}#${new Date(b).toISOString().slice(0, 7)}`,
  start: monthStart,
  previous: (b) => monthStart(b - 1),
  cap: 4,
});

/** Where a page stopped: the bucket, and the last sort key returned from it ('' = from its start). */
export interface AuditPosition {
  bucket: number;
  sk: string;
}

export interface AuditPageQuery {
  since: number;
  type?: AuditType;
  userId?: string;
  limit: number;
  after?: AuditPosition;
}

type Stored = AuditEvent & Item & { sk: string };

/** Buckets read at once: the newest alone (most pages end there), then wider and wider. */
const BATCHES = [1, 4, 12, 24];

export class AuditLog implements AuditRecorder {
  constructor(
    private readonly store: TenantStore,
    private readonly now: () => number = Date.now,
  ) {}

  writes(body: AuditEventBody, source: AuditSource, outcome?: Outcome): WriteOp[] {
    const ms = this.now();
    const sk = auditSortKey(ms, randomBytes(8).toString('hex'));
    const event: AuditEvent = {
      ...body,
      id: sk,
      time: new Date(ms).toISOString(),
      outcome: outcome ?? defaultOutcome(body),
      actor: source.actor,
      ...(source.sourceIp ? { sourceIp: source.sourceIp } : {}),
      ...(source.userAgent ? { userAgent: source.userAgent.slice(0, MAX_USER_AGENT) } : {}),
    };
    const item: Item = { ...event, expiresAt: Math.floor(ms / 1000) + AUDIT_RETENTION_SECONDS };
    const userId = subjectOf(body);
    const keys: Key[] = [{ pk: tenantStream.pk(tenantStream.start(ms)), sk }];
    if (userId) keys.push({ pk: userStream(userId).pk(monthStart(ms)), sk });
    return keys.map((key) => ({ put: { key, item } }));
  }

  async record(body: AuditEventBody, source: AuditSource, outcome?: Outcome): Promise<void> {
    try {
      // Both copies or neither, and one transaction even for one item: an event about a known
      // user costs the same round trip as one about an identifier that matches nobody, so the
      // sign-in pages' timing does not tell which accounts exist (functions/hosted/login.ts).
      await this.store.transact(this.writes(body, source, outcome));
    } catch (err) {
      // The change itself succeeded; the event's content (user ids, addresses) stays out of the log.
      logger.error('audit event not recorded', {
        type: body.type,
        error: err instanceof Error ? err.name : 'unknown',
      });
    }
  }

  /**
   * One page, newest first: reads buckets from `after` (or now) back to `since`, at most the
   * stream's cap of them, keeping the events that match `type`. `next` says where to go on; it is
   * absent once `since` is reached.
   */
  async page(q: AuditPageQuery): Promise<{ events: AuditEvent[]; next?: AuditPosition }> {
    const stream = q.userId ? userStream(q.userId) : tenantStream;
    const floor = stream.start(q.since);
    const events: AuditEvent[] = [];
    let bucket = q.after?.bucket ?? stream.start(this.now());
    let read = 0;
    for (let batch = 0; bucket >= floor && read < stream.cap; batch++) {
      const starts: number[] = [];
      const size = Math.min(BATCHES[Math.min(batch, BATCHES.length - 1)]!, stream.cap - read);
      for (let b = bucket; starts.length < size && b >= floor; b = stream.previous(b)) starts.push(b);
      const loaded = await Promise.all(starts.map((b) => this.store.query<Stored>(stream.pk(b))));
      read += starts.length;
      for (const [i, items] of loaded.entries()) {
        const start = starts[i]!;
        const after = q.after?.bucket === start ? q.after.sk : '';
        for (const item of items.sort((a, b) => (a.sk < b.sk ? -1 : 1))) {
          if (item.sk <= after || Date.parse(item.time) < q.since) continue;
          if (q.type && item.type !== q.type) continue;
          events.push(publicEvent(item));
          if (events.length === q.limit) return { events, next: { bucket: start, sk: item.sk } };
        }
      }
      bucket = stream.previous(starts[starts.length - 1]!);
    }
    return bucket >= floor ? { events, next: { bucket, sk: '' } } : { events };
  }
}

/** The stored item without its key and TTL attributes. */
function publicEvent(item: Stored): AuditEvent {
  const { pk: _pk, sk: _sk, expiresAt: _e, ...event } = item;
  return event as AuditEvent;
}
