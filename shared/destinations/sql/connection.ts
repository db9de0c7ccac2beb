/** The port the SQL destination talks through; one adapter per driver (pg, PGlite, mssql). */
/** Connections per destination pool (mssql: unless the connection string's `Max Pool Size` says otherwise). */
export const DEFAULT_POOL_SIZE = 10;

export type SqlParameter = string | number | boolean | null;

export interface QueryResult {
  rows: Array<Record<string, unknown>>;
  /** Rows the statement changed (inserted, updated or deleted), as the driver reports it. */
  rowCount: number;
}

export interface SqlSession {
  query(sql: string, parameters?: SqlParameter[]): Promise<QueryResult>;
  /** PostgreSQL server only: streams text-format lines into a `COPY … FROM STDIN` statement. */
  copyIn?(statement: string, lines: Iterable<string>): Promise<void>;
}

export interface SqlConnection extends SqlSession {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
