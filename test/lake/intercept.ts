/** A container whose writes of one blob can be held back or failed: two lake writers racing, a write lost. */
import type { AppendBlobClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';

const bound = <T extends object>(target: T, property: string | symbol, receiver: unknown): unknown => {
  const value: unknown = Reflect.get(target, property, receiver);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
};

/** `client` with one method replaced. */
const replacing = <T extends object>(client: T, member: string, replacement: unknown): T =>
  new Proxy(client, { get: (target, property, receiver) => (property === member ? replacement : bound(target, property, receiver)) });

/**
 * `container`, except that every write of `path` (a Put Blob, or an Append Block; a predicate picks several blobs)
 * first awaits `before()`, which may throw to fail that write.
 */
export function interceptWrites(container: ContainerClient, path: string | ((name: string) => boolean), before: () => Promise<void>): ContainerClient {
  const matches = typeof path === 'string' ? (name: string) => name === path : path;
  return new Proxy(container, {
    get(target, property, receiver) {
      if (property === 'getBlockBlobClient') {
        return (name: string): BlockBlobClient => {
          const blob = target.getBlockBlobClient(name);
          const upload: BlockBlobClient['upload'] = async (...args) => {
            await before();
            return blob.upload(...args);
          };
          return matches(name) ? replacing(blob, 'upload', upload) : blob;
        };
      }
      if (property === 'getAppendBlobClient') {
        return (name: string): AppendBlobClient => {
          const blob = target.getAppendBlobClient(name);
          const appendBlock: AppendBlobClient['appendBlock'] = async (...args) => {
            await before();
            return blob.appendBlock(...args);
          };
          return matches(name) ? replacing(blob, 'appendBlock', appendBlock) : blob;
        };
      }
      return bound(target, property, receiver);
    },
  });
}
