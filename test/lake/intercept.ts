/** A container whose writes of one blob can be held back or failed: two lake writers racing, a write lost. */
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';

/** `container`, except that every Put Blob of `path` first awaits `before()`, which may throw to fail that write. */
export function interceptUploads(container: ContainerClient, path: string, before: () => Promise<void>): ContainerClient {
  const bound = <T extends object>(target: T, property: string | symbol, receiver: unknown): unknown => {
    const value: unknown = Reflect.get(target, property, receiver);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  return new Proxy(container, {
    get(target, property, receiver) {
      if (property !== 'getBlockBlobClient') return bound(target, property, receiver);
      return (name: string): BlockBlobClient => {
        const blob = target.getBlockBlobClient(name);
        if (name !== path) return blob;
        const upload: BlockBlobClient['upload'] = async (...args) => {
          await before();
          return blob.upload(...args);
        };
        return new Proxy(blob, { get: (client, member, self) => (member === 'upload' ? upload : bound(client, member, self)) });
      };
    },
  });
}
