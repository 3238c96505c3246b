import type { WriteOp } from '../store/store.js';
import type { AuditEventBody, AuditSource, Outcome } from './events.js';

/**
 * The port audit events are written through. An event must never make the change it records
 * fail: `record` writes after the change and never throws (a failure is logged with the event's
 * type only, never its content); `writes` gives the items of an event so a change that is one
 * transaction anyway can carry its event in the same transaction.
 */
export interface AuditRecorder {
  record(body: AuditEventBody, source: AuditSource, outcome?: Outcome): Promise<void>;
  writes(body: AuditEventBody, source: AuditSource, outcome?: Outcome): WriteOp[];
}

/** How long events are kept: 90 days, then DynamoDB's TTL deletes them. */
export const AUDIT_RETENTION_SECONDS = 90 * 24 * 3600;
