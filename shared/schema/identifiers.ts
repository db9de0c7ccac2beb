/**
 * Identifier rules for SQL destinations. Names reach DDL and DML as quoted identifiers (they cannot be
 * parameters), so every one is checked against a strict pattern first; quoting is the dialect's second
 * line of defence, not the first.
 */
import { ExportError } from '../errors';

const ALPHANUMERIC = /^[A-Za-z0-9]+$/;
/** Dataverse logical names are lower-case ASCII letters, digits and underscores. */
const DATAVERSE_NAME = /^[a-z0-9_]+$/;
export const MAX_PREFIX_LENGTH = 14;
/** SQL Server's identifier limit; PostgreSQL's is 63 bytes, checked by the dialect. */
const MAX_NAME_LENGTH = 128;

const describe = (value: string): string => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

export function validateSchemaName(schema: string): string {
  if (!ALPHANUMERIC.test(schema) || schema.length > MAX_NAME_LENGTH) {
    throw new ExportError('config', `Schema name ${describe(schema)} is not allowed: use letters and digits only.`, {
      where: 'destination.schema',
      fix: 'Choose an alphanumeric schema name such as "dbo".',
    });
  }
  return schema;
}

export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  if (!ALPHANUMERIC.test(prefix) || prefix.length > MAX_PREFIX_LENGTH) {
    throw new ExportError(
      'config',
      `Table prefix ${describe(prefix)} is not allowed: use letters and digits only, fewer than 15 characters.`,
      { where: 'destination.prefix', fix: 'Choose a short alphanumeric prefix such as "crm", or none.' },
    );
  }
  return prefix;
}

export function validateDataverseName(name: string, where: string): string {
  if (!DATAVERSE_NAME.test(name) || name.length > MAX_NAME_LENGTH - 20) {
    throw new ExportError('schema', `Dataverse name ${describe(name)} is not a valid logical name ([a-z0-9_]).`, {
      where,
      fix: 'Check the table metadata: logical names contain only lower-case letters, digits and underscores.',
    });
  }
  return name;
}

/** `prefix_name`, or `name` without a prefix: DES's naming for data and metadata tables. */
export const prefixed = (prefix: string, name: string): string => (prefix === '' ? name : `${prefix}_${name}`);
