import type { ActionResult, ActionRun } from '../records/authorization.js';
import { AuditLog } from '../store/audit-log.js';
import type { WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { AuditEventBody, AuditSource } from './events.js';

/** Records an event from domain code (no request at hand): after the change, never throwing. */
export const recordAudit = (store: TenantStore, body: AuditEventBody, source: AuditSource): Promise<void> =>
  new AuditLog(store).record(body, source);

/**
 * The writes of a federated flow's outcome event, for the transaction that records the outcome
 * itself (the user is the actor: they are the one in the browser).
 */
export function federatedOutcomeWrites(
  store: TenantStore,
  run: ActionRun,
  result: Pick<ActionResult, 'state' | 'verificationMethod'>,
  from: { sourceIp: string; userAgent: string },
): WriteOp[] {
  const detail = {
    userId: run.userId,
    action: run.action,
    state: result.state,
    ...(result.verificationMethod ? { method: result.verificationMethod } : {}),
  };
  return new AuditLog(store).writes(
    { type: 'federated.outcome', detail },
    { actor: { kind: 'user', id: run.userId }, sourceIp: from.sourceIp, userAgent: from.userAgent },
  );
}
