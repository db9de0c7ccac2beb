import { createHash } from 'node:crypto';

/** A GUID that is the same for the same key on every machine, so sample ids and metadata ids are reproducible. */
export function stableGuid(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  // Version 4 / variant 1 bits so the value looks like any other GUID to validators.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
