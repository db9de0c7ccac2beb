/**
 * The embedded database starts with small memory settings (pglite-connection.ts: PGlite keeps all of
 * `shared_buffers` resident for the whole run), in memory and in a data directory, and a reopened directory
 * still holds what an earlier connection wrote (npm start's restart).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteConnection } from '../../shared/destinations/sql/pglite-connection';

const directory = mkdtempSync(join(tmpdir(), 'dvx-pglite-memory-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const settingsQuery =
  "SELECT current_setting('shared_buffers') AS shared_buffers, current_setting('wal_buffers') AS wal_buffers";

describe('PGlite memory settings', () => {
  it('an in-memory database runs with 16MB shared_buffers and 1MB wal_buffers', async () => {
    const connection = await createPgliteConnection(undefined);
    try {
      const { rows } = await connection.query(settingsQuery);
      expect(rows).toEqual([{ shared_buffers: '16MB', wal_buffers: '1MB' }]);
    } finally {
      await connection.close();
    }
  }, 60_000);

  it('a data directory reopens with the same settings and the rows written before', async () => {
    const dataDir = join(directory, 'db');
    const first = await createPgliteConnection(dataDir);
    await first.query('CREATE TABLE kept (id int PRIMARY KEY)');
    await first.query('INSERT INTO kept VALUES (1), (2)');
    await first.close();
    const reopened = await createPgliteConnection(dataDir);
    try {
      expect((await reopened.query(settingsQuery)).rows).toEqual([{ shared_buffers: '16MB', wal_buffers: '1MB' }]);
      expect((await reopened.query('SELECT id FROM kept ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
