import { z } from 'zod';
import type { ErrorClass } from '../errors';

/** Error classes as stored in status and failed records, read back with a check. */
export const errorClassSchema = z.enum([
  'transient',
  'throttled',
  'schema',
  'data',
  'config',
  'expired-token',
] satisfies ErrorClass[]);
