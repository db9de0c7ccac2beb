/**
 * What a Dataverse page or delta yields, independent of transport. Rows keep the Web API shape
 * (`_x_value` lookups, annotations) so the schema layer decides how they map to columns.
 */

/** A Web API row as returned, annotations included. */
export type WebApiRow = Record<string, unknown>;

export interface RowUpsert {
  kind: 'upsert';
  id: string;
  /** The row's `versionnumber`, read from its `@odata.etag` (`W/"<n>"`). */
  versionNumber: number;
  row: WebApiRow;
}

export interface RowDelete {
  kind: 'delete';
  id: string;
}

export type RowChange = RowUpsert | RowDelete;

export interface ChangePage {
  changes: RowChange[];
  /** Present on every page but the last. Opaque; persist it to resume. */
  nextLink?: string;
  /** Present on the last page only. Opaque; replay it verbatim for the next delta. */
  deltaLink?: string;
  /**
   * The version watermark of the token this page belongs to (the integer before `!` in `$deltatoken`):
   * every change in the delta is at or below it, so deletes carry it as their tombstone version.
   */
  watermark?: number;
}
