/** The storage-error reader and classifier, fed with errors real Azurite calls throw from each storage SDK. */
import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import {
  WriteConflict,
  hasStorageStatus,
  isMissingItem,
  storageErrorClass,
  storageFailure,
  storageStatus,
} from '../../shared/storage/errors';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

const thrown = (action: () => Promise<unknown>): Promise<unknown> =>
  action().then(
    () => {
      throw new Error('the call was expected to fail');
    },
    (error: unknown) => error,
  );

describe('storage status reader', () => {
  it('reads status and service code from the blob and table SDKs alike', async () => {
    const missingContainer = await thrown(() =>
      azurite.clients.blobs.getContainerClient('nosuchcontainer').getBlobClient('x').download(),
    );
    expect(storageStatus(missingContainer)).toEqual({ statusCode: 404, code: 'ContainerNotFound' });
    expect(isMissingItem(missingContainer)).toBe(false);

    const container = azurite.clients.blobs.getContainerClient('errors-test');
    await container.createIfNotExists();
    const missingBlob = await thrown(() => container.getBlobClient('absent').getProperties());
    expect(storageStatus(missingBlob).statusCode).toBe(404);
    expect(isMissingItem(missingBlob)).toBe(true);

    const table = azurite.clients.table('errorstest');
    await table.createTable();
    const missingEntity = await thrown(() => table.getEntity('p', 'absent'));
    expect(hasStorageStatus(missingEntity, 404)).toBe(true);
    expect(hasStorageStatus(missingEntity, 409, 412)).toBe(false);
  });

  it('reads nothing from errors that are not storage responses', () => {
    expect(storageStatus(new Error('socket hang up'))).toEqual({});
    expect(storageStatus(undefined)).toEqual({});
    expect(storageStatus('text')).toEqual({});
    expect(storageStatus({ statusCode: '404' })).toEqual({});
    expect(hasStorageStatus(null, 404)).toBe(false);
  });
});

describe('storage error classes', () => {
  const rest = (statusCode: number) => new RestError('failed', { statusCode });

  it('refused access is config, 429 and 503 throttled, anything else transient', () => {
    expect(storageErrorClass(rest(401))).toBe('config');
    expect(storageErrorClass(rest(403))).toBe('config');
    expect(storageErrorClass(rest(429))).toBe('throttled');
    expect(storageErrorClass(rest(503))).toBe('throttled');
    expect(storageErrorClass(rest(500))).toBe('transient');
    expect(storageErrorClass(rest(412))).toBe('transient');
    expect(storageErrorClass(new Error('ECONNRESET'))).toBe('transient');
  });

  it('storageFailure says what failed, keeps ExportErrors and tells a person how to fix refused access', () => {
    const denied = storageFailure(
      new RestError('no', { statusCode: 403, code: 'AuthorizationFailure' }),
      'Reading x',
      'x',
    );
    expect(denied).toMatchObject({
      errorClass: 'config',
      where: 'x',
      message: 'Reading x failed (HTTP 403 AuthorizationFailure)',
    });
    expect(denied.fix).toContain('Storage Blob Data Owner');
    expect(storageFailure(rest(503), 'Reading x', 'x')).toMatchObject({ errorClass: 'throttled', retryAfterMs: 1_000 });
    expect(storageFailure(new Error('socket hang up'), 'Reading x', 'x').message).toBe(
      'Reading x failed (socket hang up)',
    );
    const conflict = new WriteConflict('Saving x', 'x');
    expect(storageFailure(conflict, 'Saving x', 'x')).toBe(conflict);
    expect(conflict).toBeInstanceOf(ExportError);
    expect(conflict.errorClass).toBe('transient');
  });
});
