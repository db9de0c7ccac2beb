/**
 * Runs `create` (creating a queue, container or table) on first use and shares the result; a failure is not
 * remembered, so the next call tries again instead of failing forever after one network blip.
 */
export function onceUntilSuccess(create: () => Promise<unknown>): () => Promise<unknown> {
  let created: Promise<unknown> | undefined;
  return () => {
    created ??= create().catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    return created;
  };
}
