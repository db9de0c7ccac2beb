/**
 * N:N associations through `<set>(<id>)/<relationship>/$ref`, as Dataverse takes them
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { sampleRelationships } from '../sample-org';
import { refuseConditions } from './conditional';
import { HttpError, rowNotFound, unknownProperty } from './http-error';
import { tableByKey } from './metadata-routes';
import { checkQueryOptions } from './scope';
import type { OrgStore } from './store';
import { readBody, send } from './wire';

export class ReferenceRoutes {
  constructor(
    private readonly baseUrl: string,
    private readonly store: OrgStore,
    private readonly persist: () => void,
  ) {}

  /**
   * Associate (POST `…/<relationship>/$ref` with `{"@odata.id": "<set>(<id>)"}`) and disassociate (DELETE
   * `…/<relationship>(<id>)/$ref` or `…/<relationship>/$ref?$id=<uri>`) through an N:N relationship's
   * collection-valued navigation property, named after the relationship as Dataverse names it. Each
   * association is a row of the intersect table, so it shows in that table's change tracking.
   */
  async handle(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    id: string,
    navigation: string,
    query: URLSearchParams,
  ): Promise<void> {
    const navigationMatch = /^(\w+)(?:\(([0-9a-fA-F-]{36})\))?$/.exec(navigation);
    const relationship = sampleRelationships.find(
      (candidate) =>
        candidate.schemaName === navigationMatch?.[1] &&
        (candidate.entity1LogicalName === table.logicalName || candidate.entity2LogicalName === table.logicalName),
    );
    if (!navigationMatch || !relationship) throw unknownProperty(navigation, table.logicalName);
    refuseConditions(request.headers, '$ref');
    checkQueryOptions(query, request.method === 'DELETE' ? ['$id'] : [], '$ref');
    if (!this.store.get(table.logicalName, id)) throw rowNotFound(table, id);
    const otherLogicalName =
      relationship.entity1LogicalName === table.logicalName
        ? relationship.entity2LogicalName
        : relationship.entity1LogicalName;
    const otherTable = tableByKey(this.store, otherLogicalName);
    const pair = (otherId: string) =>
      relationship.entity1LogicalName === table.logicalName
        ? { entity1Id: id, entity2Id: otherId }
        : { entity1Id: otherId, entity2Id: id };
    const method = request.method ?? 'GET';
    if (method === 'POST' && navigationMatch[2] === undefined) {
      const otherId = this.referencedId(otherTable, await readBody(request));
      if (!this.store.get(otherLogicalName, otherId)) throw rowNotFound(otherTable, otherId);
      if (!this.store.associate(relationship, pair(otherId)))
        throw new HttpError(400, '0x80040237', 'Cannot insert duplicate key.');
      this.persist();
      return send(response, 204, undefined);
    }
    if (method === 'DELETE') {
      const otherId =
        navigationMatch[2]?.toLowerCase() ?? this.referencedId(otherTable, { '@odata.id': query.get('$id') });
      // Dataverse answers a disassociate of rows that are not associated with success [inferred].
      if (this.store.disassociate(relationship, pair(otherId))) this.persist();
      return send(response, 204, undefined);
    }
    throw new HttpError(405, '0x80060888', `${method} is not supported on '${navigation}/$ref'.`);
  }

  /** The id in `{"@odata.id": "[<base>]<set>(<id>)"}`, which must point at a row of `table`. */
  private referencedId(table: TableMetadata, body: unknown): string {
    const reference =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['@odata.id'] : undefined;
    const path =
      typeof reference === 'string'
        ? reference.startsWith(this.baseUrl)
          ? reference.slice(this.baseUrl.length)
          : reference
        : '';
    const match = /^\/?(\w+)\(([0-9a-fA-F-]{36})\)$/.exec(path);
    if (!match || match[1] !== table.entitySetName) {
      throw new HttpError(
        400,
        '0x80040203',
        `'@odata.id' must be the URI of a ${table.logicalName} row (${table.entitySetName}(<id>)), not '${String(reference)}'.`,
      );
    }
    return (match[2] ?? '').toLowerCase();
  }
}
