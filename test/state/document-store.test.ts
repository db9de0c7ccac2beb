import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBlobDocumentStore } from '../../shared/state/document-store';
import { STATE_CONTAINER } from '../../shared/state/names';
import { WriteConflict } from '../../shared/storage/errors';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

/** A stand-in for the export profile schema: the store treats documents as opaque beyond their schema. */
const profileSchema = z.object({
  source: z.url(),
  connectionSecret: z.string().startsWith('https://'),
  tables: z.array(z.string()).min(1),
  retryCount: z.number().int().min(0).max(20).default(12),
});
type Profile = z.infer<typeof profileSchema>;

const profile: Profile = {
  source: 'https://org.crm.dynamics.com',
  connectionSecret: 'https://kv.vault.azure.net/secrets/sql',
  tables: ['account'],
  retryCount: 12,
};
const store = () =>
  createBlobDocumentStore(azurite.clients, { folder: 'profiles', kind: 'export profile', schema: profileSchema });

describe('document store (blobs with ETags)', () => {
  it('puts, gets, lists and deletes documents by name', async () => {
    const profiles = store();
    expect(await profiles.get('sales')).toBeUndefined();
    const put = await profiles.put('sales', profile);
    expect(await profiles.get('sales')).toEqual(put);
    await profiles.put('service', { ...profile, tables: ['contact'] });

    const listed = await profiles.list();
    expect(listed.map((entry) => [entry.name, entry.value.tables])).toEqual([
      ['sales', ['account']],
      ['service', ['contact']],
    ]);
    expect(await profiles.delete('service')).toBe(true);
    expect(await profiles.delete('service')).toBe(false);
    expect((await profiles.list()).map((entry) => entry.name)).toEqual(['sales']);
  });

  it('lets only one of two editors holding the same ETag replace a document', async () => {
    const profiles = store();
    const { etag } = await profiles.put('editors', profile);
    const results = await Promise.allSettled([
      profiles.put('editors', { ...profile, tables: ['account', 'contact'] }, { ifMatch: etag }),
      profiles.put('editors', { ...profile, retryCount: 3 }, { ifMatch: etag }),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((result) => result.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(WriteConflict);
    expect(lost?.reason).toMatchObject({ errorClass: 'transient' });

    await expect(profiles.delete('editors', { ifMatch: etag })).rejects.toBeInstanceOf(WriteConflict);
    const current = await profiles.get('editors');
    expect(await profiles.delete('editors', { ifMatch: current?.etag })).toBe(true);
  });

  it('creates only when the name is free, and replaces only a version that still exists', async () => {
    const profiles = store();
    await profiles.put('fresh', profile, { ifNoneMatch: '*' });
    await expect(profiles.put('fresh', profile, { ifNoneMatch: '*' })).rejects.toBeInstanceOf(WriteConflict);
    // Replacing a version that was deleted meanwhile is a conflict too, not a silent re-create.
    const { etag } = await profiles.put('gone', profile);
    await profiles.delete('gone');
    await expect(profiles.put('gone', profile, { ifMatch: etag })).rejects.toBeInstanceOf(WriteConflict);
    expect(await profiles.get('gone')).toBeUndefined();
  });

  it('validates documents both ways without echoing their content', async () => {
    const profiles = store();
    const invalid = { ...profile, connectionSecret: 'Server=x;Password=hunter2', tables: [] } as unknown as Profile;
    const error = await profiles.put('bad', invalid).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ errorClass: 'config' });
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect((error as Error).message).not.toContain('hunter2');

    // Defaults from the schema are applied on the way in.
    const { retryCount: _retryCount, ...withoutRetry } = profile;
    expect((await profiles.put('defaults', withoutRetry as Profile)).value.retryCount).toBe(12);

    const blob = azurite.clients.blobs.getContainerClient(STATE_CONTAINER).getBlockBlobClient('profiles/broken.json');
    await blob.upload('{"source": 42', 13);
    await expect(profiles.get('broken')).rejects.toMatchObject({
      errorClass: 'schema',
      where: 'export profile broken',
    });
    await expect(profiles.get('../x')).rejects.toMatchObject({ errorClass: 'config' });
  });
});
