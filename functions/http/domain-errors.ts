import { ClientRuleError } from '../clients/client-repository.js';
import { badRequest, conflict, notFound, type ProtocolError } from '../errors.js';
import { UnsupportedAlgorithmError } from '../signing/signer.js';
import { InvalidSlugError, SlugTakenError, UnknownTenantError } from '../tenants/tenant-repository.js';
import { LoginTakenError, ProfileConflictError } from '../users/profile-repository.js';

/**
 * The one table that turns the domain's own errors into HTTP answers. Use-cases throw what they
 * mean (a client rule broken, a login taken); only the edge knows statuses and error codes.
 */
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** One row: errors of `type` answer as `toHttp` says; anything else is left to the next row. */
const map =
  <E extends Error>(type: ErrorClass<E>, toHttp: (err: E) => ProtocolError) =>
  (err: unknown): ProtocolError | undefined =>
    err instanceof type ? toHttp(err) : undefined;

const DOMAIN_ERRORS = [
  // RFC 7591 §3.2.2 names the code for client metadata the server refuses.
  map(ClientRuleError, (err) => badRequest(err.message, 'invalid_client_metadata')),
  map(LoginTakenError, (err) => conflict(err.message, 'login_taken', { field: err.kind })),
  map(ProfileConflictError, (err) => conflict(err.message)),
  map(SlugTakenError, (err) => conflict(err.message, 'slug_taken')),
  map(InvalidSlugError, (err) => badRequest(err.message, 'invalid_slug')),
  map(UnknownTenantError, (err) => notFound(err.message, 'unknown_tenant')),
  // A client registered for an algorithm this deployment cannot sign (SIGNER=kms signs RS256 only):
  // refused, never silently signed with another algorithm (RFC 6749 §5.2).
  map(UnsupportedAlgorithmError, (err) => badRequest(err.message, 'unauthorized_client')),
];

/** The HTTP form of a domain error; `undefined` for anything the table does not know. */
export function domainErrorToHttp(err: unknown): ProtocolError | undefined {
  for (const row of DOMAIN_ERRORS) {
    const mapped = row(err);
    if (mapped) return mapped;
  }
  return undefined;
}
