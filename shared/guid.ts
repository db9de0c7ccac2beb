/** A GUID in its 8-4-4-4-12 hex form, any case: how Dataverse spells a uniqueidentifier (primary keys, ids in links). */
export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
