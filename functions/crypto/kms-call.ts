import { BackendUnavailableError } from '../errors.js';
import { count, metric } from '../metrics.js';

/**
 * Runs one KMS call (counted); throttling, KMS being down and network failures become
 * `BackendUnavailableError` (503), anything else is rethrown as is.
 */
export async function kmsCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  // Every KMS request, by operation (`kms:Sign`, `kms:Decrypt`...): `npm run bench` prices them.
  count(`kms:${what}`);
  try {
    return await fn();
  } catch (err) {
    metric('KmsErrors', {});
    const name = (err as { name?: string }).name ?? 'Error';
    // Network failures reach us as plain `Error`s whose `code` (not `name`) is ECONNREFUSED,
    // ECONNRESET, ETIMEDOUT...; KMS's own retryable `DependencyTimeoutException` counts too.
    const code = (err as { code?: unknown }).code;
    const network = typeof code === 'string' && /^(ECONN|ETIMEDOUT|EPIPE|EAI_AGAIN)/.test(code);
    if (
      network ||
      /Throttl|Unavailable|InternalException|KMSInternal|DependencyTimeout|TimeoutError/i.test(name)
    ) {
      throw new BackendUnavailableError(`KMS ${what} unavailable: ${network ? code : name}`, {
        cause: err,
      });
    }
    throw err;
  }
}
