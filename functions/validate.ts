import * as z from './zod.js';
import { badRequest } from './errors.js';

/**
 * Input validation with zod, for the edge and for use-cases alike: a failed parse is a 400 whose
 * description names every problem in one sentence and whose `issues` list them by path.
 */

/** Turns zod issues into one readable sentence plus a machine-readable list. */
export function describeIssues(error: z.core.$ZodError): {
  message: string;
  issues: { path: string; message: string }[];
} {
  const issues = error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  return { message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

export function validate<S extends z.core.$ZodType>(
  schema: S,
  value: unknown,
  code = 'invalid_request',
): z.output<S> {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    const { message, issues } = describeIssues(parsed.error);
    throw badRequest(message, code, { issues });
  }
  return parsed.data;
}
