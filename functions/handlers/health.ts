import { json, publicHandler } from '../http/lambda.js';

/** GET /health — answers 200 as soon as the function (or the local server) can serve requests. */
export const handler = publicHandler(async () => json(200, { status: 'ok' }));
