/**
 * Timed destination work: for every active profile whose destination has any (the lake's in-place snapshots
 * and incremental folder rollover), run it now. The lake decides itself whether an interval has passed, so a
 * frequent schedule is right. One profile's failure is reported and does not stop the others.
 */
import { toExportError } from '../../errors';
import type { SyncServices } from '../wiring/services';

export type MaintenanceServices = Pick<SyncServices, 'activations' | 'profiles' | 'runtimes' | 'now'>;

export interface ProfileMaintenance {
  profile: string;
  outcome: 'done' | 'failed';
  done: string[];
  error?: string;
}

export async function maintainDestinations(services: MaintenanceServices): Promise<ProfileMaintenance[]> {
  const [activations, profiles] = await Promise.all([services.activations.list(), services.profiles.list()]);
  const active = new Set(
    activations.filter((activation) => activation.value.state === 'active').map((activation) => activation.name),
  );
  const lakes = profiles.filter((profile) => active.has(profile.name) && profile.value.destination.kind === 'lake');
  return Promise.all(
    lakes.map(async ({ name }): Promise<ProfileMaintenance> => {
      try {
        const { destination } = await services.runtimes.get(name);
        const report = await destination.maintain?.(services.now());
        return { profile: name, outcome: 'done', done: report?.done ?? [] };
      } catch (error) {
        return { profile: name, outcome: 'failed', done: [], error: toExportError(error).message };
      }
    }),
  );
}
