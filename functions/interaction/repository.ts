import { ConditionFailedError, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { boundTo, type Interaction } from './interaction.js';

/*
 * One item per interaction, keyed by its random id (the tenant prefix is added by the TenantStore).
 * It expires with the interaction (`expiresAt`), and finishing marks it consumed, so an id works
 * until the first finish and never after.
 */
export const interactionKey = (id: string) => ({ pk: `interaction#${id}`, sk: 'interaction' });

type Stored = Interaction & Record<string, unknown>;

/** The write that stores a new interaction (committed with whatever else starts it). */
export function interactionWrite(interaction: Interaction): WriteOp {
  return { put: { key: interactionKey(interaction.id), item: { ...interaction } } };
}

/**
 * The write that ends an interaction, for the transaction that also commits its outcome: it fails
 * when another request finished it first, so two tabs racing to finish get one answer.
 */
export function consumeInteractionWrite(interaction: Interaction): WriteOp {
  return {
    consume: { key: interactionKey(interaction.id), match: { bindingHash: interaction.bindingHash } },
  };
}

export type Loaded =
  { status: 'ok'; interaction: Interaction } | { status: 'missing' } | { status: 'foreign' };

/** Loads an interaction for the browser holding `binding`: a missing or wrong binding reads as `foreign`. */
export async function loadInteraction(
  store: TenantStore,
  id: string,
  binding: string | undefined,
): Promise<Loaded> {
  if (!/^[A-Za-z0-9_-]{24}$/.test(id)) return { status: 'missing' };
  const interaction = await store.get<Stored & { consumedAt?: number }>(interactionKey(id));
  if (!interaction || interaction.consumedAt !== undefined) return { status: 'missing' };
  if (!boundTo(interaction, binding)) return { status: 'foreign' };
  return { status: 'ok', interaction };
}

/** Records changes while the interaction is still open (not finished by another request). */
export async function saveInteraction(
  store: TenantStore,
  id: string,
  set: Partial<Interaction>,
): Promise<Interaction> {
  return store.update<Stored>(interactionKey(id), { ...set }, { unconsumed: true });
}

/**
 * Counts a failed attempt with one atomic increment, so concurrent wrong guesses cannot share a
 * count and exceed the limit. An interaction already finished elsewhere reads as over.
 */
export async function recordFailure(store: TenantStore, interaction: Interaction): Promise<Interaction> {
  try {
    return await store.increment<Stored>(interactionKey(interaction.id), 'failures', { unconsumed: true });
  } catch (err) {
    if (err instanceof ConditionFailedError) return { ...interaction, failures: interaction.maxAttempts };
    throw err;
  }
}

export type AttemptReservation =
  { status: 'reserved'; interaction: Interaction } | { status: 'exhausted' } | { status: 'over' };

/**
 * Reserves one attempt before a code is compared: `failures` is raised in one conditional write
 * only while it is below `maxAttempts`, so of any number of racing guesses at most `maxAttempts`
 * are ever compared. `exhausted` when none is left; `over` when another request finished the
 * interaction.
 */
export async function reserveAttempt(
  store: TenantStore,
  interaction: Interaction,
): Promise<AttemptReservation> {
  const key = interactionKey(interaction.id);
  try {
    const updated = await store.increment<Stored>(key, 'failures', {
      below: interaction.maxAttempts,
      unconsumed: true,
    });
    return { status: 'reserved', interaction: updated };
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
    const current = await store.get<Stored & { consumedAt?: number }>(key);
    return !current || current.consumedAt !== undefined ? { status: 'over' } : { status: 'exhausted' };
  }
}

/**
 * Gives back a reserved attempt that was not a failure (the code was right, or nothing was
 * compared); undefined when the interaction was finished by another request in the meantime.
 */
export async function releaseAttempt(
  store: TenantStore,
  interaction: Interaction,
): Promise<Interaction | undefined> {
  try {
    return await store.increment<Stored>(interactionKey(interaction.id), 'failures', {
      by: -1,
      unconsumed: true,
    });
  } catch (err) {
    if (err instanceof ConditionFailedError) return undefined;
    throw err;
  }
}
