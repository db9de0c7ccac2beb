/** A container whose writes of one blob can be held back or failed: two lake writers racing, a write lost. */
import type { AppendBlobClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';

const bound = <T extends object>(target: T, property: string | symbol, receiver: unknown): unknown => {
  const value: unknown = Reflect.get(target, property, receiver);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
};

/** `client` whose `member` first awaits `before()`. */
function heldBack<T extends object>(client: T, member: keyof T & string, before: () => Promise<void>): T {
  const method = bound(client, member, client) as (...args: unknown[]) => Promise<unknown>;
  const replacement = async (...args: unknown[]) => {
    await before();
    return method(...args);
  };
  return new Proxy(client, {
    get: (target, property, receiver) => (property === member ? replacement : bound(target, property, receiver)),
  });
}

/**
 * `container`, except that every write of `path` (a Put Blob, or an Append Block; a predicate picks several blobs)
 * first awaits `before()`, which may throw to fail that write.
 */
export function interceptWrites(
  container: ContainerClient,
  path: string | ((name: string) => boolean),
  before: () => Promise<void>,
): ContainerClient {
  const matches = typeof path === 'string' ? (name: string) => name === path : path;
  return new Proxy(container, {
    get(target, property, receiver) {
      if (property === 'getBlockBlobClient') {
        return (name: string): BlockBlobClient =>
          matches(name) ? heldBack(target.getBlockBlobClient(name), 'upload', before) : target.getBlockBlobClient(name);
      }
      if (property === 'getAppendBlobClient') {
        return (name: string): AppendBlobClient =>
          matches(name)
            ? heldBack(target.getAppendBlobClient(name), 'appendBlock', before)
            : target.getAppendBlobClient(name);
      }
      return bound(target, property, receiver);
    },
  });
}
