import type { AwsApi } from '../aws/json-api.js';
import { BackendUnavailableError } from '../errors.js';
import { count, metric } from '../metrics.js';

/**
 * Runs one KMS operation on KMS's JSON API (counted). Throttling, 5xx, timeouts and network
 * failures are retried by the client and then answered as `BackendUnavailableError` (503); an
 * error code that says KMS is unavailable whatever its status counts too; any other error is the
 * client's `AwsApiError`, named by its KMS error code (`NotFoundException`,
 * `InvalidCiphertextException`...).
 */
export async function kmsCall<T>(kms: AwsApi, operation: string, input: object): Promise<T> {
  // Every KMS request, by operation (`kms:Sign`, `kms:Decrypt`...): `npm run bench` prices them.
  count(`kms:${operation}`);
  try {
    return await kms.call<T>(operation, input);
  } catch (err) {
    metric('KmsErrors', {});
    if (err instanceof BackendUnavailableError) throw err;
    const name = (err as { name?: string }).name ?? 'Error';
    if (/Throttl|Unavailable|InternalException|KMSInternal|DependencyTimeout|TimeoutError/i.test(name)) {
      throw new BackendUnavailableError(`KMS ${operation} unavailable: ${name}`, { cause: err });
    }
    throw err;
  }
}
