/**
 * Creates a container or table on first use. A successful creation is remembered for the life of the store;
 * a failed one is not, so the next call tries again instead of failing forever.
 */
export function ensureOnce(create: () => Promise<unknown>): () => Promise<void> {
  let created: Promise<void> | undefined;
  return () => {
    created ??= create().then(
      () => undefined,
      (error: unknown) => {
        created = undefined;
        throw error;
      },
    );
    return created;
  };
}
