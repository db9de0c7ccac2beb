/**
 * Activities as DES exported them: activitypointer refused with DES's reason, PartyList columns mapped to a
 * documented outcome (their parties are activityparty rows), a Regarding lookup as `<lookup>` + `<lookup>_entitytype`.
 */
import { describe, expect, it } from 'vitest';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { webApiSelect } from '../../shared/dataverse/properties';
import { ExportError } from '../../shared/errors';
import { validateProfile } from '../../shared/profile/profile';
import { metadataRows } from '../../shared/schema/metadata-tables';
import { buildTableModel } from '../../shared/schema/table-model';
import { sampleTable } from '../../local/sample-org';

const profile = (tables: string[]) => ({
  name: 'activities',
  source: { environmentUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2', auth: { kind: 'managed-identity' } },
  tables,
  destination: {
    kind: 'sql',
    dialect: 'mssql',
    connection: { keyVaultSecretUri: 'https://kv-export.vault.azure.net/secrets/sql-contoso' },
  },
});

const email = sampleTable('email');
const activityparty = sampleTable('activityparty');

describe('activitypointer', () => {
  it('is refused by profile validation with DES reason and workaround, at the table that names it', () => {
    const result = validateProfile(profile(['account', 'activitypointer']));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.field).toBe('tables[1]');
    expect(result.problems[0]?.reason).toMatch(/Data Export Service did not support it/);
    expect(result.problems[0]?.reason).toMatch(/phonecall, appointment, email and task/);
  });

  it('leaves the activity tables and activityparty exportable', () => {
    expect(validateProfile(profile(['email', 'phonecall', 'appointment', 'activityparty'])).ok).toBe(true);
  });

  it('cannot reach a destination table through metadata either: the table model refuses it as a config error', () => {
    const pointer: TableMetadata = { ...email, logicalName: 'activitypointer', entitySetName: 'activitypointers' };
    let thrown: unknown;
    try {
      buildTableModel(pointer, 'crm');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ExportError);
    expect(thrown).toMatchObject({ errorClass: 'config', where: 'table activitypointer' });
    expect((thrown as ExportError).fix).toMatch(/activityparty/);
  });
});

describe('an activity table (email)', () => {
  const model = buildTableModel(email, 'crm');
  const names = model.columns.map((column) => column.name);

  it('skips each PartyList column with the reason naming where its parties are: the activityparty table', () => {
    for (const list of ['from', 'to', 'cc']) {
      expect(names).not.toContain(list);
      expect(model.skipped.find((skipped) => skipped.name === list)?.reason).toMatch(
        /rows of the activityparty table.*add activityparty to the profile/,
      );
    }
  });

  it('never asks the Web API for a PartyList column, which has no property on the activity', () => {
    const select = webApiSelect(email);
    expect(select).not.toEqual(expect.arrayContaining(['to']));
    expect(select.filter((property) => ['from', 'to', 'cc'].includes(property))).toEqual([]);
    expect(select).toContain('_regardingobjectid_value');
  });

  it('maps the polymorphic Regarding lookup to regardingobjectid and regardingobjectid_entitytype, as DES did', () => {
    expect(model.columns.filter((column) => column.name.startsWith('regardingobjectid'))).toEqual([
      {
        name: 'regardingobjectid',
        type: { kind: 'guid' },
        source: { kind: 'property', property: '_regardingobjectid_value' },
      },
      {
        name: 'regardingobjectid_entitytype',
        type: { kind: 'string', length: 128 },
        source: {
          kind: 'lookupTable',
          property: '_regardingobjectid_value',
          annotation: '_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname',
        },
      },
    ]);
  });
});

describe('activityparty', () => {
  it('maps the activity and the polymorphic party as lookups with their table, and the list as a choice', () => {
    const names = buildTableModel(activityparty, 'crm').columns.map((column) => column.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'activitypartyid',
        'activityid',
        'activityid_entitytype',
        'partyid',
        'partyid_entitytype',
        'participationtypemask',
        'addressused',
      ]),
    );
  });

  it("lists activityid's target with activitypointer's real key, activityid, although activitypointer is not exported", () => {
    const rows = metadataRows(
      [activityparty],
      [],
      (table) => new Set(table.columns.map((column) => column.logicalName)),
      '2026-01-01T00:00:00Z',
    );
    expect(rows.TargetMetadata).toContainEqual({
      EntityName: 'activityparty',
      AttributeName: 'activityid',
      ReferencedEntity: 'activitypointer',
      ReferencedAttribute: 'activityid',
    });
  });
});
