/**
 * Every recorded or documented Dataverse response in test/fixtures/dataverse/ must be readable by
 * the client's schemas and converters: a fixture the client cannot read is a bug in the client.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deltaLinkWatermark, etagVersion, toRowChange, tokenWatermark } from '../../shared/dataverse/client';
import { toOptions } from '../../shared/dataverse/metadata-reader';
import {
  attributeMetadataSchema,
  collectionOf,
  entityMetadataSchema,
  entityPageSchema,
  errorBodySchema,
} from '../../shared/dataverse/responses';
import { ExportError } from '../../shared/errors';

const root = join(__dirname, '../fixtures/dataverse');
const ORG = 'https://org.example.crm.dynamics.com';

/** Fixtures keep the `[Organization URI]` placeholder; SOURCES.md says to substitute a real base URL. */
const load = (path: string): unknown =>
  JSON.parse(readFileSync(join(root, path), 'utf8').replace(/\[Organization URI\]/gi, ORG));

const accounts = { entitySetName: 'accounts', primaryIdAttribute: 'accountid' };
const contacts = { entitySetName: 'contacts', primaryIdAttribute: 'contactid' };

const page = (path: string) => entityPageSchema.parse(load(path));

describe('Dataverse fixtures', () => {
  it('covers every fixture file (a new fixture needs a test here)', () => {
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.json'))
      .map((file) => relative(root, join(root, file)))
      .sort();
    expect(files).toEqual([...covered].sort());
  });

  it('reads the initial change-tracking response: a row upsert and the deltaLink watermark', () => {
    const body = page('ms-docs/change-tracking-initial-response.json');
    const [change] = body.value.map((item) => toRowChange(accounts, item, 'fixture'));
    expect(change).toMatchObject({ kind: 'upsert', id: '60c4e274-0d87-e711-80e5-00155db19e6d', versionNumber: 915244 });
    expect(deltaLinkWatermark(body['@odata.deltaLink'] ?? '')).toBe(919042);
  });

  it('reads a delta: an upsert, then a $deletedEntity as a delete by id', () => {
    const body = page('ms-docs/change-tracking-delta-response.json');
    const changes = body.value.map((item) => toRowChange(accounts, item, 'fixture'));
    expect(changes.map((change) => change.kind)).toEqual(['upsert', 'delete']);
    expect(changes[1]).toEqual({ kind: 'delete', id: '2e451703-c686-e711-80e5-00155db19e6d' });
    expect(deltaLinkWatermark(body['@odata.deltaLink'] ?? '')).toBe(919058);
  });

  it('reads the synthetic Airbyte delta: the realistic token; its delete without a GUID and its row without an etag are refused', () => {
    const body = page('airbyte/incremental-response-with-delete.json');
    expect(deltaLinkWatermark(body['@odata.deltaLink'] ?? '')).toBe(12644418993);
    // Hand-written upstream with the id 'pk2'; Dataverse primary keys are always GUIDs.
    expect(() =>
      toRowChange({ entitySetName: 'x', primaryIdAttribute: 'test_primary_key' }, body.value[1] ?? {}, 'fixture'),
    ).toThrow(/expected a GUID/);
    // Hand-written upstream without `@odata.etag`; real rows always carry one, and without it there is no version to guard upserts with.
    expect(() =>
      toRowChange({ entitySetName: 'x', primaryIdAttribute: 'test_primary_key' }, body.value[0] ?? {}, 'fixture'),
    ).toThrow(ExportError);
  });

  it('passes paging-cookie nextLinks through untouched', () => {
    for (const file of ['ms-docs/paging-contacts-page1.json', 'ms-docs/paging-contacts-page2.json']) {
      const body = page(file);
      expect(body['@odata.nextLink']).toContain('$skiptoken=%3Ccookie%20pagenumber=');
      const changes = body.value.map((item) => toRowChange(contacts, item, file));
      expect(changes).toHaveLength(2);
      expect(changes.every((change) => change.kind === 'upsert' && change.versionNumber > 72_000_000)).toBe(true);
    }
  });

  it('keeps annotations, currency lookups and multi-select strings in row shapes', () => {
    const revenue = page('ms-docs/accounts-select-revenue.json').value[0];
    expect(revenue).toMatchObject({
      revenue: 20000,
      _transactioncurrencyid_value: '228f42f8-e646-e111-8eb7-78e7d162ced1',
    });
    const formatted = toRowChange(accounts, page('ms-docs/accounts-formatted-values.json').value[0] ?? {}, 'fixture');
    expect(
      formatted.kind === 'upsert' && formatted.row['customertypecode@OData.Community.Display.V1.FormattedValue'],
    ).toBe('Competitor');
    const owners = page('ms-docs/accounts-lookup-annotations.json').value.map((item) =>
      toRowChange(accounts, item, 'fixture'),
    );
    expect(
      owners.map(
        (change) => change.kind === 'upsert' && change.row['_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname'],
      ),
    ).toEqual(['team', 'systemuser']);
    const multi = page('ms-docs/contacts-multiselect-containvalues.json').value.map((item) =>
      toRowChange(contacts, item, 'fixture'),
    );
    expect(multi.map((change) => change.kind === 'upsert' && change.row.sample_outdooractivities)).toEqual([
      '2',
      '2,3,8,9',
      '2,4,9',
      '1,2,8,9',
    ]);
  });

  it('reads a real-magnitude versionnumber from a recorded etag', () => {
    const row = page('cblx-odataclient/fetchxml-row-with-etag.json').value[0] ?? {};
    expect(etagVersion(row['@odata.etag'], 'fixture')).toBe(4153966743);
  });

  it('reads EntityDefinitions bodies, including a hand-written one without MetadataId', () => {
    const [account] = collectionOf(entityMetadataSchema).parse(
      load('ms-docs/entitydefinition-account-displayname.json'),
    ).value;
    expect(account).toMatchObject({
      EntitySetName: 'accounts',
      DisplayName: { UserLocalizedLabel: { Label: 'Account' } },
    });
    const [stream] = collectionOf(entityMetadataSchema).parse(
      load('airbyte/entitydefinitions-discover-datetime-behavior.json'),
    ).value;
    expect(stream?.Attributes?.map((attribute) => attribute.DateTimeBehavior?.Value ?? null)).toEqual([
      'DateOnly',
      'UserLocal',
      null,
    ]);
  });

  it('reads attribute casts: polymorphic collections and single-attribute responses', () => {
    const [email] = collectionOf(attributeMetadataSchema).parse(
      load('ms-docs/attributes-isauditenabled-polymorphic.json'),
    ).value;
    expect(email?.['@odata.type']).toBe('#Microsoft.Dynamics.CRM.StringAttributeMetadata');
    expect(attributeMetadataSchema.parse(load('ms-docs/image-attribute-maxsize.json')).MaxSizeInKB).toBe(102400);
  });

  it('reads local option sets with labels, and status options with their State', () => {
    const day = attributeMetadataSchema.parse(
      load('ms-docs/picklist-attribute-optionset-preferredappointmentdaycode.json'),
    );
    expect(day.OptionSet?.Name).toBe('account_preferredappointmentdaycode');
    expect(toOptions(day.OptionSet ?? {})).toEqual([{ value: 0, labels: [{ label: 'Sunday', languageCode: 1033 }] }]);
    const age = attributeMetadataSchema.parse(load('cblx-odataclient/picklist-attribute-optionset-age.json'));
    const ageOptions = toOptions(age.OptionSet ?? {});
    expect(ageOptions).toHaveLength(18);
    expect(ageOptions.every((option) => option.labels[0]?.languageCode === 1046 && option.state === undefined)).toBe(
      true,
    );
    const [status] = collectionOf(attributeMetadataSchema).parse(
      load('cblx-odataclient/status-attribute-optionset-statuscode.json'),
    ).value;
    const statusOptions = toOptions(status?.OptionSet ?? {});
    expect(statusOptions).toHaveLength(43);
    expect(statusOptions.every((option) => typeof option.state === 'number')).toBe(true);
    expect(statusOptions[0]).toEqual({ value: 1, labels: [{ label: 'Ativo(a)', languageCode: 1046 }], state: 0 });
  });

  it('reads RetrieveMetadataChanges entity metadata and its version stamp', () => {
    const body = z
      .object({ ServerVersionStamp: z.string(), EntityMetadata: z.array(entityMetadataSchema) })
      .parse(load('ms-docs/retrieve-metadata-changes-response.json'));
    expect(tokenWatermark(body.ServerVersionStamp)).toBe(152647645);
    expect(body.EntityMetadata[0]?.Attributes?.[0]?.AttributeTypeName?.Value).toBe('PicklistType');
  });

  it('reads the Web API error body', () => {
    expect(errorBodySchema.parse(load('ms-docs/error-record-not-found.json')).error.code).toBe('0x80040217');
  });
});

const covered = [
  'airbyte/entitydefinitions-discover-datetime-behavior.json',
  'airbyte/incremental-response-with-delete.json',
  'cblx-odataclient/fetchxml-row-with-etag.json',
  'cblx-odataclient/picklist-attribute-optionset-age.json',
  'cblx-odataclient/status-attribute-optionset-statuscode.json',
  'ms-docs/accounts-formatted-values.json',
  'ms-docs/accounts-lookup-annotations.json',
  'ms-docs/accounts-select-revenue.json',
  'ms-docs/attributes-isauditenabled-polymorphic.json',
  'ms-docs/change-tracking-delta-response.json',
  'ms-docs/change-tracking-initial-response.json',
  'ms-docs/contacts-multiselect-containvalues.json',
  'ms-docs/entitydefinition-account-displayname.json',
  'ms-docs/error-record-not-found.json',
  'ms-docs/image-attribute-maxsize.json',
  'ms-docs/paging-contacts-page1.json',
  'ms-docs/paging-contacts-page2.json',
  'ms-docs/picklist-attribute-optionset-preferredappointmentdaycode.json',
  'ms-docs/retrieve-metadata-changes-response.json',
];
