/**
 * `npm run openapi`: writes docs/openapi.json (OpenAPI 3.1) for `/init-auth`, `/get-user` and
 * every `/v1/*` route of functions/routes.ts, from the zod schemas the handlers validate with.
 * Exits 1, naming the route, when a route in scope has no entry in scripts/openapi/operations.ts,
 * so a new management route cannot ship undocumented. test/unit/openapi.test.ts regenerates the
 * document and fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { buildDocument, OPENAPI_FILE, renderDocument } from './openapi/document.js';

try {
  const doc = buildDocument();
  writeFileSync(OPENAPI_FILE, await renderDocument(doc));
  const operations = Object.values(doc.paths as Record<string, object>).flatMap((item) => Object.keys(item));
  console.log(`wrote ${relative(process.cwd(), OPENAPI_FILE)}: ${operations.length} operations`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
