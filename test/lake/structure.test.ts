/**
 * One suite, two inputs: the structural checks the real readers impose run on the real Synapse Link
 * fixtures and on our output. A check that rejects a fixture is wrong.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLakeDestination } from '../../shared/destinations/lake/destination';
import { dfsRoot } from '../../shared/destinations/lake/paths';
import { useAzurite } from '../support/azurite';
import { csvProblems, modelProblems } from './lake-checks';
import { readBlob, rowsOf } from './lake-readers';
import { applyChanges, initialSync } from './sample-sync';

const fixtures = path.resolve(__dirname, '../fixtures/lake');
const fixture = (name: string): string => readFileSync(path.join(fixtures, name), 'utf8');

interface Sample {
  /** model.json text and the container it must point into. */
  models: Array<{ name: string; text: string; containerRoot: string }>;
  /** CSV files with the entity (in one of the models) that describes them. */
  csvs: Array<{ name: string; text: string; model: string; entity: string }>;
}

const azurite = useAzurite();
const ours: Sample = { models: [], csvs: [] };

beforeAll(async () => {
  const container = azurite.clients.blobs.getContainerClient('structure');
  const destination = createLakeDestination(container, {
    mode: 'appendOnly',
    granularity: 'Year',
    incrementalIntervalMinutes: 60,
    snapshotIntervalMinutes: 60,
  });
  await applyChanges(destination, await initialSync(destination, new Date('2026-01-01T00:00:00Z')));
  const containerRoot = dfsRoot(container.url, container.accountName, container.containerName);
  for await (const item of container.listBlobsFlat()) {
    const text = (await readBlob(container, item.name)) ?? '';
    if (item.name.endsWith('model.json')) ours.models.push({ name: item.name, text, containerRoot });
  }
  const root = JSON.parse(ours.models.find((model) => model.name === 'model.json')?.text ?? '{}') as {
    entities: Array<{ name: string; partitions: Array<{ name: string }> }>;
  };
  for (const entity of root.entities) {
    for (const partition of entity.partitions) {
      const name = `${entity.name}/${partition.name}.csv`;
      ours.csvs.push({ name, text: (await readBlob(container, name)) ?? '', model: 'model.json', entity: entity.name });
    }
  }
}, 60_000);

const synapseLink: Sample = {
  models: [
    {
      name: 'arcane-framework-scala/cdm_model.json',
      text: fixture('arcane-framework-scala/cdm_model.json'),
      containerRoot: 'https://myaccount.dfs.core.windows.net/dataverse-identifier',
    },
    {
      name: 'arcane-framework-scala/populate-model.json',
      text: fixture('arcane-framework-scala/populate-model.json'),
      containerRoot: '',
    },
    {
      name: 'arcane-stream-microsoft-synapse-link/inventtrans-model.json',
      text: fixture('arcane-stream-microsoft-synapse-link/inventtrans-model.json'),
      containerRoot: '',
    },
  ],
  csvs: [
    {
      name: 'dimensionattributelevelvalue-2020.csv',
      text: fixture('arcane-framework-scala/dimensionattributelevelvalue-2020.csv'),
      model: 'arcane-framework-scala/populate-model.json',
      entity: 'dimensionattributelevelvalue',
    },
    {
      name: 'dimensionattributelevelvalue-delete-row.csv',
      text: fixture('arcane-framework-scala/dimensionattributelevelvalue-delete-row.csv'),
      model: 'arcane-framework-scala/populate-model.json',
      entity: 'dimensionattributelevelvalue',
    },
    {
      name: 'inventtrans-2020.csv',
      text: fixture('arcane-stream-microsoft-synapse-link/inventtrans-2020.csv'),
      model: 'arcane-stream-microsoft-synapse-link/inventtrans-model.json',
      entity: 'inventtrans',
    },
  ],
};

describe.each([
  ['the real Synapse Link fixtures', () => synapseLink],
  ['our append-only output', () => ours],
])('lake structure: %s', (_label, sample) => {
  it('has model.json files every reader accepts', () => {
    expect(sample().models.length).toBeGreaterThan(0);
    for (const model of sample().models) {
      const options = model.containerRoot
        ? { containerRoot: model.containerRoot, requireCompleted: true }
        : { requireCompleted: true };
      expect(modelProblems(model.text, options), model.name).toEqual([]);
    }
  });

  it('has CSV files with one field per attribute, quoting by type and readable values', () => {
    expect(sample().csvs.length).toBeGreaterThan(0);
    for (const csv of sample().csvs) {
      const model = JSON.parse(sample().models.find((candidate) => candidate.name === csv.model)?.text ?? '{}') as {
        entities: Array<{ name: string; attributes: Array<{ name: string; dataType: string }> }>;
      };
      const entity = model.entities.find((candidate) => candidate.name === csv.entity);
      expect(entity, csv.name).toBeDefined();
      expect(csvProblems(csv.text, entity?.attributes ?? []), csv.name).toEqual([]);
    }
  });

  it('marks deletes as IsDelete=True rows that keep Id, the sink times and versionnumber', () => {
    const deletes = sample().csvs.flatMap((csv) => {
      const model = JSON.parse(sample().models.find((candidate) => candidate.name === csv.model)?.text ?? '{}') as {
        entities: Array<{ name: string; attributes: Array<{ name: string; dataType: string }> }>;
      };
      return rowsOf(
        csv.text,
        model.entities.find((candidate) => candidate.name === csv.entity)?.attributes ?? [],
      ).filter((row) => row.IsDelete === 'True');
    });
    expect(deletes.length).toBeGreaterThan(0);
    for (const row of deletes) {
      expect(row).toMatchObject({
        Id: expect.any(String),
        SinkCreatedOn: expect.any(String),
        SinkModifiedOn: expect.any(String),
        versionnumber: expect.stringMatching(/^\d+$/),
      });
    }
  });
});
