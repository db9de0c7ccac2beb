/**
 * Journey: a maker adds columns to a table exported to an append-only lake while the export is in delta. Within a
 * few schema-refresh intervals model.json lists the columns at the end (Synapse Link appends them: docs/reference/
 * lake-format.md §3), records written after carry them, records written before stay readable, rows copied before
 * get their values back-filled — without re-activation and without touching the other table.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { readBlob, readLikeDataverseToSql } from '../lake/lake-readers';
import { EMULATOR_TOKEN, sampleProfile, sourceVersions, useProduct } from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct({ env: { SCHEMA_REFRESH_SCHEDULE: '*/2 * * * * *' } });
const PROFILE = 'lakeschemas';
const CONTAINER = 'journey-lake-schema';

describe('schema changes while in delta, into the lake', () => {
  it('appends the new columns to model.json, writes and back-fills their values, touching nothing else', async () => {
    const p = product();
    p.env.DVX_SECRET_LAKE_CONNECTION = p.azurite.connectionString;
    const container = BlobServiceClient.fromConnectionString(p.azurite.connectionString).getContainerClient(CONTAINER);
    const origin = new URL(p.emulator.baseUrl).origin;
    const dataverse = (method: string, url: string, body?: unknown) =>
      fetch(url, {
        method,
        headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const profile = sampleProfile(p, {
      tables: ['account', 'contact'],
      relationships: [],
      destination: {
        kind: 'lake',
        storage: { connectionString: { appSetting: 'DVX_SECRET_LAKE_CONNECTION' } },
        container: CONTAINER,
        mode: 'appendOnly',
      },
    });
    expect((await p.call('PUT', `profiles/${PROFILE}`, profile)).status).toBe(201);
    expect((await p.call('POST', `profiles/${PROFILE}/activate`)).status).toBe(202);
    const { sync } = p.deps;
    await waitFor(
      'both tables in delta',
      async () => {
        const phases = await Promise.all(['account', 'contact'].map((table) => sync.checkpoints.read(PROFILE, table)));
        return phases.every((checkpoint) => checkpoint?.value.phase === 'delta') || undefined;
      },
      90_000,
    );
    const accountCount = sourceVersions(p.emulator, 'account').size;
    await waitFor(
      'accounts copied',
      async () => (await readLikeDataverseToSql(container)).get('account')?.size === accountCount || undefined,
      30_000,
    );
    const activationBefore = await sync.activations.get(PROFILE);
    const contactCheckpointBefore = await sync.checkpoints.read(PROFILE, 'contact');
    const contactRowsBefore = (await readLikeDataverseToSql(container)).get('contact');
    const attributesBefore = await entityAttributes(container);

    for (const attribute of [
      { name: 'new_region', type: 'String', maxLength: 100 },
      { name: 'new_score', type: 'Integer' },
    ]) {
      const added = await dataverse('POST', `${origin}/_test/tables/account/attributes`, attribute);
      expect(added.status, await added.text()).toBe(201);
    }
    const existing = [...sourceVersions(p.emulator, 'account').keys()].slice(0, 5);
    for (const [index, id] of existing.entries()) {
      const patched = await dataverse('PATCH', `${p.emulator.baseUrl}accounts(${id})`, {
        new_region: `region ${index}`,
        new_score: index * 10 + 1,
      });
      expect(patched.status).toBe(204);
    }
    const created = await dataverse('POST', `${p.emulator.baseUrl}accounts`, {
      name: 'created after the schema change',
      new_region: 'north',
      new_score: 42,
    });
    expect(created.status).toBe(204);
    const createdId = /\(([0-9a-f-]{36})\)/.exec(created.headers.get('odata-entityid') ?? '')?.[1] ?? '';
    expect(createdId).not.toBe('');

    const rows = await waitFor(
      'the new columns filled in the lake',
      async () => {
        const byId = (await readLikeDataverseToSql(container)).get('account') ?? new Map();
        const filled =
          existing.every((id, index) => byId.get(id)?.new_region === `region ${index}`) &&
          byId.get(createdId)?.new_score === '42';
        return filled ? byId : undefined;
      },
      60_000,
    );
    existing.forEach((id, index) =>
      expect(rows.get(id)).toMatchObject({ new_region: `region ${index}`, new_score: String(index * 10 + 1) }),
    );
    expect(rows.get(createdId)).toMatchObject({ new_region: 'north', new_score: '42' });
    // Every row is still there and readable; untouched rows hold null in the new columns.
    expect(rows.size).toBe(accountCount + 1);
    const untouched = [...rows.values()].find((row) => !existing.includes(String(row.Id)) && row.Id !== createdId);
    expect(untouched).toMatchObject({ new_region: null, new_score: null });

    // model.json: the columns appended after the ones the lake had, in the root and the table's manifest.
    const attributesAfter = await entityAttributes(container);
    expect(attributesAfter).toEqual([...attributesBefore, 'new_region', 'new_score']);
    const manifest = JSON.parse(
      (await readBlob(container, 'Microsoft.Athena.TrickleFeedService/account-model.json')) ?? '{}',
    );
    expect(manifest.entities[0].attributes.map((attribute: { name: string }) => attribute.name)).toEqual(
      attributesAfter,
    );

    // No re-activation, and the other table was left alone.
    expect(await sync.activations.get(PROFILE)).toEqual(activationBefore);
    const contactCheckpoint = await sync.checkpoints.read(PROFILE, 'contact');
    expect(contactCheckpoint?.value.phase).toBe('delta');
    expect(contactCheckpoint?.value.startedAt).toBe(contactCheckpointBefore?.value.startedAt);
    expect(contactCheckpoint?.value.rowsCopied).toBe(contactCheckpointBefore?.value.rowsCopied);
    expect((await readLikeDataverseToSql(container)).get('contact')).toEqual(contactRowsBefore);
    expect((await sync.checkpoints.read(PROFILE, 'account'))?.value.phase).toBe('delta');
  }, 240_000);
});

async function entityAttributes(container: import('@azure/storage-blob').ContainerClient): Promise<string[]> {
  const model = JSON.parse((await readBlob(container, 'model.json')) ?? '{}') as {
    entities: Array<{ name: string; attributes: Array<{ name: string }> }>;
  };
  return (
    model.entities.find((entity) => entity.name === 'account')?.attributes.map((attribute) => attribute.name) ?? []
  );
}
