/**
 * Whole numbers in Table storage. A JSON number without a type is read by the service as Int32 or Double, so
 * counters and watermarks past 2^31 are written as Edm.Int64 (the SDK sends it as a string and reads a bigint).
 */
import { z } from 'zod';

export const int64 = (value: number): { value: string; type: 'Int64' } => ({ value: String(value), type: 'Int64' });

/** Reads what `int64` wrote (a bigint), or an untyped number written by hand or by another tool. */
export const storedInteger = z
  .union([z.bigint(), z.number().int()])
  .transform((value) => Number(value))
  .refine(Number.isSafeInteger, 'must be a safe integer');
