import type { Actor, AuditEventBody, Outcome } from '../audit/events.js';
import { AuditLog } from '../store/audit-log.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { WriteOp } from '../store/store.js';
import type { HttpRequest } from './request.js';

/** An audit recorder bound to one request: its actor, source address and user agent. */
export interface RequestAudit {
  /** After the change; never throws (functions/audit/recorder.ts). */
  record(body: AuditEventBody, outcome?: Outcome): Promise<void>;
  /** The event's writes, for the change's own transaction. */
  writes(body: AuditEventBody, outcome?: Outcome): WriteOp[];
}

/**
 * `audit(req, ctx).record({...})`: one line where a handler or a hosted page makes a change. The
 * actor defaults to the tenant secret, which is what authenticates every `/v1` route.
 */
export function audit(
  req: Pick<HttpRequest, 'sourceIp' | 'userAgent'>,
  ctx: { store: TenantStore },
  actor: Actor = { kind: 'tenant-secret' },
): RequestAudit {
  const log = new AuditLog(ctx.store);
  const source = { actor, sourceIp: req.sourceIp, userAgent: req.userAgent };
  return {
    record: (body, outcome) => log.record(body, source, outcome),
    writes: (body, outcome) => log.writes(body, source, outcome),
  };
}
