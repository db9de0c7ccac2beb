/**
 * The copy-page activity's entry: a page ordered by an initial sync of a profile that has since been deleted (and
 * maybe created again under its name) is not copied. The orchestration carries the generation it was started for;
 * the table's checkpoint carries the profile's current one (shared/sync/admin/activation.ts).
 */
import { copyPage, type CopyPageServices, type PageCopyReport } from './copy-page';

export async function copyPageOfGeneration(
  services: CopyPageServices,
  profile: string,
  table: string,
  generation: string | undefined,
): Promise<PageCopyReport> {
  // Without one (an orchestration started before generations existed) the page is copied as before.
  if (generation !== undefined) {
    const checkpoint = await services.checkpoints.read(profile, table);
    // Reported done, so the old orchestration ends here instead of failing on a checkpoint that is not its own.
    if (checkpoint?.value.generation !== generation)
      return { table, rowsCopied: 0, pages: 0, done: true, pageRows: 0, readMs: 0, applyMs: 0 };
  }
  return copyPage(services, profile, table);
}
