import { ProtocolError } from '../errors.js';

/** An error the user sees on a page: the request cannot be sent back anywhere safe. */
export class PageError extends ProtocolError {}

/** An error returned to the client's redirect URI (RFC 6749 §4.1.2.1). */
export class RedirectError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}
