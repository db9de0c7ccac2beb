/**
 * Creates a container, queue or table on first use. A successful creation is remembered for the life of the
 * caller; a failed one is not, so the next call tries again instead of failing forever after one network blip.
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
