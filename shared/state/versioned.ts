/** A stored value with the ETag it was read or written at; pass the ETag back to update it only if unchanged. */
export interface Versioned<T> {
  value: T;
  etag: string;
}
