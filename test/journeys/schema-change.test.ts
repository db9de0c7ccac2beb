/**
 * Journey: a maker adds columns to an exported table while the export is in delta (DES "Delta Sync – Modify
 * Schema"). Within a few schema-refresh intervals the destination gains the columns, rows copied before get
 * their values back-filled, new rows carry them, the metadata tables list them — without re-activation and
 * without touching the other table.
 */
import { describe, expect, it } from 'vitest';
import { EMULATOR_TOKEN, sampleProfile, sourceVersions, sqlDestination, useProduct } from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct({ env: { SCHEMA_REFRESH_SCHEDULE: '*/2 * * * * *' } });
const PROFILE = 'schemas';

describe('schema changes while in delta', () => {
  it('adds the new columns, back-fills existing rows and refreshes the metadata, touching nothing else', async () => {
    const p = product();
    const origin = new URL(p.emulator.baseUrl).origin;
    const dataverse = (method: string, url: string, body?: unknown) =>
      fetch(url, {
        method,
        headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    expect(
      (
        await p.call(
          'PUT',
          `profiles/${PROFILE}`,
          sampleProfile(p, { tables: ['account', 'contact'], relationships: [] }),
        )
      ).status,
    ).toBe(201);
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
    const destination = await sqlDestination(p, PROFILE);
    await waitFor(
      'accounts copied',
      async () => (await destination.countRows('account')) === sourceVersions(p.emulator, 'account').size || undefined,
      30_000,
    );
    const activationBefore = await sync.activations.get(PROFILE);
    const contactCheckpointBefore = await sync.checkpoints.read(PROFILE, 'contact');
    const contactRowsBefore = await destination.readRows('contact');

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
    const createdId = /\(([0-9a-f-]{36})\)/.exec(created.headers.get('odata-entityid') ?? '')?.[1];
    expect(createdId).toBeDefined();

    const rows = await waitFor(
      'the new columns filled in the destination',
      async () => {
        const all = await destination.readRows('account');
        const byId = new Map(all.map((row) => [String(row.Id).toLowerCase(), row]));
        const filled =
          existing.every((id, index) => byId.get(id)?.new_region === `region ${index}`) &&
          byId.get(createdId ?? '')?.new_score === 42;
        return filled ? byId : undefined;
      },
      30_000,
    );
    existing.forEach((id, index) =>
      expect(rows.get(id)).toMatchObject({ new_region: `region ${index}`, new_score: index * 10 + 1 }),
    );
    expect(rows.get(createdId ?? '')).toMatchObject({ new_region: 'north', new_score: 42 });
    // Untouched rows hold null in the new columns and keep their version.
    const untouched = [...rows.values()].find((row) => !existing.includes(String(row.Id)) && row.Id !== createdId);
    expect(untouched).toMatchObject({ new_region: null, new_score: null });

    const attributes = await destination.readTable('AttributeMetadata');
    const listed = attributes.filter((row) => row.EntityName === 'account').map((row) => row.AttributeName);
    expect(listed).toEqual(expect.arrayContaining(['new_region', 'new_score']));

    // No re-activation, and the other table was left alone.
    expect(await sync.activations.get(PROFILE)).toEqual(activationBefore);
    const contactCheckpoint = await sync.checkpoints.read(PROFILE, 'contact');
    expect(contactCheckpoint?.value.phase).toBe('delta');
    expect(contactCheckpoint?.value.startedAt).toBe(contactCheckpointBefore?.value.startedAt);
    // Not reset: its watermark follows the org's version on every poll, but it was never copied again.
    expect(contactCheckpoint?.value.rowsCopied).toBe(contactCheckpointBefore?.value.rowsCopied);
    expect(await destination.readRows('contact')).toEqual(contactRowsBefore);
    expect((await sync.checkpoints.read(PROFILE, 'account'))?.value.phase).toBe('delta');
  }, 180_000);
});
