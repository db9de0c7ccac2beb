/** Dependency health: each probe is a cheap call to one dependency, bounded in time, never throwing. */
import pLimit from 'p-limit';

/** Probes run at once: a host with many active profiles must not open a connection to each in the same instant. */
const PROBES_AT_ONCE = 6;

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
  const limit = pLimit(PROBES_AT_ONCE);
  const dependencies = await Promise.all(probes.map((probe) => limit(() => runProbe(probe, timeoutMs))));
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

/**
 * First line of the error and its code. Storage SDK and ExportError messages carry no credentials; a database
 * driver's may echo part of a connection string, so password-like values and URL user info are masked anyway.
 */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return redact(String(error));
  const code = (error as { code?: unknown }).code;
  const firstLine = error.message.split('\n')[0] ?? '';
  return redact(typeof code === 'string' && !firstLine.includes(code) ? `${code}: ${firstLine}` : firstLine);
}

const redact = (text: string): string =>
  text
    .replace(/\b(password|pwd|accountkey|sharedaccesskey|sharedaccesssignature|sig|token|code)=[^;&\s]*/gi, '$1=***')
    .replace(/:\/\/[^/@\s]+@/g, '://***@');

/** One computation shared by the callers of the next `ttlMs`: a burst of health checks probes each dependency once. */
export function cachedFor<T>(ttlMs: number, compute: () => Promise<T>): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at >= ttlMs) cached = { at: now, value: compute() };
    return cached.value;
  };
}
