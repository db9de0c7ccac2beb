/**
 * A driver error during activation's table creation (a session the server ended, say) must leave the destination
 * as a classified ExportError, so the API answers 503 ("try again") instead of a bare 500. The session below ends
 * every statement the way a PostgreSQL server does after `pg_terminate_backend`: node-postgres rejects with a
 * DatabaseError whose `code` is the SQLSTATE, 57P01 (https://www.postgresql.org/docs/15/errcodes-appendix.html).
 */
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import type { SqlConnection } from '../../shared/destinations/sql/connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';

function terminatedSession(): SqlConnection {
  const fail = (): never => {
    throw Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
      severity: 'FATAL',
    });
  };
  return {
    query: async () => fail(),
    transaction: async () => fail(),
    close: async () => undefined,
  };
}

describe('ensureTables on a session the server ended', () => {
  it('rejects with a transient ExportError, not the driver error', async () => {
    const destination = createSqlDestination(terminatedSession(), postgresDialect, {
      schema: 'dbo',
      prefix: '',
      writeDeleteLog: false,
      widenOverlongStrings: true,
    });
    const failure = await destination.ensureTables([], []).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ExportError);
    expect(failure).toMatchObject({
      errorClass: 'transient',
      message: expect.stringContaining('terminating connection'),
    });
  });
});
