import { ProtocolError } from '../errors.js';
import { methodNotAllowed } from '../http/errors.js';
import { publicHandler } from '../http/lambda.js';
import { findRoute } from '../routes.js';

/**
 * The REST API's `ANY /{proxy+}` and `ANY` on every known path (and the local server's fallback): a request no route entry
 * matches gets JSON, never the gateway's own body — 405 with `Allow` when only the method is wrong.
 */
export const handler = publicHandler(async (req) => {
  const found = findRoute(req.method, req.path);
  if (found && 'allowed' in found) throw methodNotAllowed(found.allowed);
  throw new ProtocolError(404, 'not_found', `no route for ${req.method} ${req.path}`);
});
