/**
 * Issue 16: while every poll was refused, status showed `lagSeconds: 0` and /api/health said `ok`. Here the
 * emulator refuses every request (403, as Dataverse answers an app that is not an application user) for a while:
 * status must show the lag growing and the table degraded, /api/health the failing source; once the source
 * answers again both are ok and the lag is back near 0.
 */
import { describe, expect, it } from 'vitest';
import { EMULATOR_TOKEN, clearFaults, sampleProfile, useProduct } from '../support/pipeline';
import { waitFor } from '../support/wait';

// Polls every second (test/support/pipeline.ts), degraded after 3 polls without success.
const product = useProduct({ env: { STATUS_DEGRADED_AFTER_POLLS: '3' } });

interface TableView {
  table: string;
  phase: string;
  lagSeconds: number;
  /** Absent before issue 16. */
  health?: { state: string; reason: string | null };
}
interface HealthView {
  status: string;
  dependencies: Array<{ name: string; status: string; detail?: string }>;
  tables: Array<{ profile: string; table: string; health: { state: string; reason: string } }>;
}

describe('status and health tell the truth while the source refuses polls', () => {
  it('shows growing lag and degraded while polls fail, and ok again after the source recovers', async () => {
    const p = product();
    const profile = sampleProfile(p, { tables: ['account'], relationships: [] });
    expect((await p.call('PUT', 'profiles/truth', profile)).status).toBe(201);
    expect((await p.call('POST', 'profiles/truth/activate')).status).toBe(202);
    const account = async () =>
      ((await p.call('GET', 'profiles/truth/status')).body as { tables: TableView[] }).tables[0] as TableView;
    await waitFor('the initial sync', async () => ((await account()).phase === 'delta' ? true : undefined), 60_000);
    const healthy = await p.call('GET', 'health');
    expect(healthy.status, JSON.stringify(healthy.body)).toBe(200);
    expect((healthy.body as HealthView).dependencies.map((d) => [d.name, d.status])).toEqual(
      expect.arrayContaining([
        ['profile truth: source', 'ok'],
        ['profile truth: destination', 'ok'],
      ]),
    );

    p.emulator.faults.set({ forbidden: true });
    const degraded = await waitFor(
      'the table to turn degraded',
      async () => {
        const view = await account();
        // Degraded may come first from the missing polls alone (a loaded host); the refusal shows once a poll records it.
        return view.health?.state === 'degraded' && view.health.reason?.includes('not a member') ? view : undefined;
      },
      30_000,
    );
    expect(degraded.health?.reason).toMatch(/No successful poll since .*not a member of the organization/);
    expect(degraded.lagSeconds).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const later = await account();
    expect(later.health?.state).toBe('degraded');
    expect(later.lagSeconds).toBeGreaterThanOrEqual(degraded.lagSeconds + 2);

    // The probe cache lasts 5 s: wait until a fresh round sees the refusal.
    const unhealthy = await waitFor(
      '/api/health to report the failing source',
      async () => {
        const response = await p.call('GET', 'health');
        const body = response.body as HealthView;
        return response.status === 503 && body.dependencies.some((d) => d.status === 'failing') ? body : undefined;
      },
      20_000,
    );
    expect(unhealthy.status).toBe('degraded');
    const source = unhealthy.dependencies.find((d) => d.name === 'profile truth: source');
    expect(source).toMatchObject({ status: 'failing' });
    expect(source?.detail).toMatch(/not a member of the organization/);
    expect(source?.detail).not.toContain(EMULATOR_TOKEN);
    expect(unhealthy.tables).toEqual([
      expect.objectContaining({
        profile: 'truth',
        table: 'account',
        health: expect.objectContaining({ state: 'degraded' }),
      }),
    ]);

    clearFaults(p.emulator);
    const recovered = await waitFor(
      'the table to recover',
      async () => {
        const view = await account();
        return view.health?.state === 'ok' && view.lagSeconds <= 2 ? view : undefined;
      },
      30_000,
    );
    expect(recovered.health?.reason).toBeNull();
    const ok = await waitFor(
      '/api/health to be ok again',
      async () => {
        const response = await p.call('GET', 'health');
        return response.status === 200 ? (response.body as HealthView) : undefined;
      },
      20_000,
    );
    expect(ok).toMatchObject({ status: 'ok', tables: [] });
  });
});
