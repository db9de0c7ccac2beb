/** Dependency health: each probe is a cheap call to one dependency, bounded in time, never throwing. */

export interface HealthProbe {
  name: string;
  check(signal: AbortSignal): Promise<void>;
}

export interface DependencyHealth {
  name: string;
  status: 'ok' | 'failing';
  latencyMs: number;
  /** Why it failed, in words safe to return from the API (no connection strings, no keys). */
  detail?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  dependencies: DependencyHealth[];
}

export async function checkHealth(probes: readonly HealthProbe[], timeoutMs: number): Promise<HealthReport> {
  const dependencies = await Promise.all(probes.map((probe) => runProbe(probe, timeoutMs)));
  return { status: dependencies.every((d) => d.status === 'ok') ? 'ok' : 'degraded', dependencies };
}

async function runProbe(probe: HealthProbe, timeoutMs: number): Promise<DependencyHealth> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([probe.check(controller.signal), timeout]);
    return { name: probe.name, status: 'ok', latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      name: probe.name,
      status: 'failing',
      latencyMs: Math.round(performance.now() - started),
      detail: describeFailure(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** First line of the error and its code: storage SDK messages carry request ids, never credentials. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const firstLine = error.message.split('\n')[0] ?? '';
  return typeof code === 'string' && !firstLine.includes(code) ? `${code}: ${firstLine}` : firstLine;
}
