/**
 * zod, the small build: `zod/mini` has the same schemas and checks as `zod` as plain functions
 * (`z.optional(s)`, `s.check(z.maxLength(n))`), so a bundle carries only the ones it calls
 * (about 20 KB instead of 450 KB). Import it as `import * as z from '../zod.js'`: a namespace
 * import tree-shakes, `import { z }` does not.
 *
 * Unlike `zod`, `zod/mini` loads no locale, and every issue would read "Invalid input"; the
 * English messages are loaded here once, so a 400's description is the same as with `zod`.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
