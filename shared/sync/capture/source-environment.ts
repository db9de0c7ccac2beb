/**
 * Checkpoints belong to a source environment, which is its organization id (WhoAmI), not its URL. Before a
 * profile's tables are polled: the same org under a new origin (a local emulator on a new port, a renamed
 * environment) gets its saved links moved to that origin; another org under any URL (a restore, copy or reset)
 * starts every table over, since its change-tracking tokens say nothing about the rows the destination holds.
 * Nor do its row versions: a restored backup's rows are older than the ones the destination got from the org
 * before, and the version guard would keep those. So the destination forgets each table's rows first
 * (Destination.forgetRows) and the resync copies the new org's; a row only the old org had is gone, without a
 * delete-log entry (README, "Another organization").
 */
import { ExportError } from '../../errors';
import { isLive, type OrchestrationClient } from '../../orchestration/client';
import type { Versioned } from '../../state/versioned';
import { resyncInstanceId, resyncTable, type ResyncServices } from '../admin/activation';
import type { Activation, SyncServices } from '../wiring/services';

export type SourceEnvironmentServices = Pick<SyncServices, 'activations' | 'checkpoints' | 'runtimes' | 'now'> &
  ResyncServices;

export type SourceEnvironmentOutcome = 'same' | 'rebased' | 'rebaselined';

/**
 * `link` with its origin replaced by `origin`, path and query kept verbatim (a delta token is opaque). Nothing is
 * followed here: the client still refuses any link that is not of the environment it talks to (dataverse/http.ts).
 */
export function rebaseLink(link: string, origin: string): string {
  const parsed = URL.parse(link);
  if (parsed === null || parsed.origin === origin) return link;
  return `${origin}${link.slice(parsed.origin.length)}`;
}

const linkOrigin = (link: string | undefined): string | undefined =>
  link === undefined ? undefined : URL.parse(link)?.origin;

/** Moves every saved link of the profile to `origin`; a checkpoint another worker moves on meanwhile is left to it. */
async function rebaseCheckpoints(
  services: SourceEnvironmentServices,
  profile: string,
  origin: string,
): Promise<number> {
  let moved = 0;
  for (const { table, value, etag } of await services.checkpoints.listByProfile(profile)) {
    const foreign = [value.nextLink, value.deltaLink].some((link) => {
      const from = linkOrigin(link);
      return from !== undefined && from !== origin;
    });
    if (!foreign) continue;
    const { updatedAt: _updatedAt, ...fields } = value;
    await services.checkpoints.update(
      profile,
      table,
      {
        ...fields,
        ...(value.nextLink === undefined ? {} : { nextLink: rebaseLink(value.nextLink, origin) }),
        ...(value.deltaLink === undefined ? {} : { deltaLink: rebaseLink(value.deltaLink, origin) }),
      },
      etag,
    );
    moved += 1;
  }
  return moved;
}

async function rebaseline(
  services: SourceEnvironmentServices,
  orchestrations: OrchestrationClient,
  profile: string,
  activation: Versioned<Activation>,
  organizationId: string,
): Promise<void> {
  const reason = `rebaselined: source environment changed from ${activation.value.organizationId} to ${organizationId}`;
  // Every table first, the new org last: a failure half-way is tried again at the next poll, and a resync that is
  // already running is not started twice (resyncTable), nor are the rows it copied since forgotten again.
  const { destination } = await services.runtimes.get(profile);
  for (const table of activation.value.tables) {
    if (!isLive(await orchestrations.getStatus(resyncInstanceId(profile, table))))
      await destination.forgetRows?.(table);
    await resyncTable(services, orchestrations, profile, table);
  }
  await services.activations.put(
    profile,
    { ...activation.value, organizationId, rebaselined: { at: services.now().toISOString(), reason } },
    { ifMatch: activation.etag },
  );
}

/** Makes the profile's checkpoints fit the environment its source URL names now; see the file comment. */
export async function followSourceEnvironment(
  services: SourceEnvironmentServices,
  orchestrations: OrchestrationClient,
  profile: string,
): Promise<SourceEnvironmentOutcome> {
  const activation = await services.activations.get(profile);
  if (!activation || activation.value.state !== 'active') return 'same';
  const runtime = await services.runtimes.get(profile);
  const organizationId = await runtime.organizationId();
  const recorded = activation.value.organizationId;
  if (recorded !== undefined && recorded !== organizationId) {
    await rebaseline(services, orchestrations, profile, activation, organizationId);
    return 'rebaselined';
  }
  if (recorded === undefined)
    await services.activations.put(profile, { ...activation.value, organizationId }, { ifMatch: activation.etag });
  const origin = URL.parse(runtime.source.http.baseUrl)?.origin;
  if (origin === undefined)
    throw new ExportError('config', 'The environment URL is not a URL', { where: `${profile}: source` });
  return (await rebaseCheckpoints(services, profile, origin)) > 0 ? 'rebased' : 'same';
}
