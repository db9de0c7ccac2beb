import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { openLakeDestination } from '../../shared/destinations/lake';
import { storageError } from '../../shared/destinations/lake/storage';
import { sampleTable } from '../../local/sample-org';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

describe('lake destination settings and storage errors', () => {
  it('opens from profile settings and writes to the dataverse-<env>-<org> container', async () => {
    const destination = openLakeDestination({
      connection: { connectionString: azurite.connectionString },
      environmentName: 'Contoso',
      organizationUniqueName: 'org1a2b',
    });
    expect(destination.mode).toBe('appendOnly');
    await destination.ensureTables([sampleTable('role')], []);
    const container = azurite.clients.blobs.getContainerClient('dataverse-contoso-org1a2b');
    expect(await container.getBlobClient('model.json').exists()).toBe(true);
    expect(await container.getBlobClient('OptionsetMetadata/StateMetadata.csv').exists()).toBe(true);
  });

  it('rejects bad settings as config errors without echoing the connection string', () => {
    expect(() =>
      openLakeDestination({
        connection: { connectionString: 'x' },
        mode: 'incremental',
        container: 'lake',
        incrementalIntervalMinutes: 1,
      }),
    ).toThrow(expect.objectContaining({ errorClass: 'config', where: 'destination.incrementalIntervalMinutes' }));
    const secret = 'AccountName=a;AccountKey=c2VjcmV0;Nonsense';
    try {
      openLakeDestination({ connection: { connectionString: secret }, container: 'lake' });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ errorClass: 'config' });
      expect(JSON.stringify(error)).not.toContain('c2VjcmV0');
    }
  });

  it('classifies storage failures the way the pipeline retries them', () => {
    const rest = (statusCode: number, code?: string) =>
      new RestError('failed', { statusCode, ...(code ? { code } : {}) });
    expect(storageError(rest(503), 'x').errorClass).toBe('throttled');
    expect(storageError(rest(429), 'x').errorClass).toBe('throttled');
    expect(storageError(rest(500), 'x').errorClass).toBe('transient');
    expect(storageError(rest(412), 'x').errorClass).toBe('transient');
    expect(storageError(rest(403), 'x').errorClass).toBe('config');
    expect(storageError(rest(404, 'ContainerNotFound'), 'x').errorClass).toBe('config');
    expect(storageError(new Error('socket hang up'), 'x').errorClass).toBe('transient');
  });
});
