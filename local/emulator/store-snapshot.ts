/** What the emulator's state file holds: the writes made to the sample org, enough to rebuild its store exactly. */
import { z } from 'zod';

const sampleValueSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.object({ id: z.string(), logicalName: z.string() }),
]);
const storedRowSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  row: z.record(z.string(), sampleValueSchema),
});

/** What a store holds beyond its generated rows: enough to rebuild it exactly (`--state` in the CLI). */
export const storeSnapshotSchema = z.object({
  seed: z.number().int(),
  accounts: z.number().int(),
  // Absent in snapshots written before contacts could be sized on their own: 1.5 per account then.
  contacts: z.number().int().optional(),
  // Absent in snapshots written before the emulator answered WhoAmI: such a state gets an id once, then keeps it.
  organizationId: z.string().uuid().optional(),
  version: z.number().int(),
  tables: z.record(
    z.string(),
    z.object({
      changed: z.array(storedRowSchema),
      deleted: z.array(z.object({ id: z.string(), version: z.number().int(), slot: z.number().int() })),
      created: z.array(z.string()),
    }),
  ),
});
export type StoreSnapshot = z.infer<typeof storeSnapshotSchema>;
