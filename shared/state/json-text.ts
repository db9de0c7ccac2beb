import { z } from 'zod';

/** A stored blob's text as JSON, for `.pipe(schema)`: a blob that is not JSON is a schema issue, not a crash. */
export const jsonText = z.string().transform((text, context): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    context.addIssue({ code: 'custom', message: 'not JSON' });
    return z.NEVER;
  }
});
