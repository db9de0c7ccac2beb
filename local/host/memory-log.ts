/**
 * `HOST_MEMORY_LOG_MS=<ms>`: the host logs `process.memoryUsage()` every `<ms>` milliseconds (rss, V8's heap
 * used and reserved, external and array-buffer memory, in MB), each heap space's used/reserved size, and how many
 * scavenges and full collections ran since the last line, so a run whose resident set grows shows which of
 * them grows: live objects (heapUsed that stays up after full collections), garbage not yet collected (heapTotal
 * far above heapUsed), or memory outside V8's heap (external, arrayBuffers: sockets' and fetch bodies' buffers).
 * Off unless set; used to investigate the memory benchmark (test/bench/memory.ts).
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { HostLog } from './console-log';

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

/** Starts the sampler when `setting` is a positive number of milliseconds; returns how to stop it. */
export function startMemoryLog(setting: string | undefined, log: HostLog): () => void {
  const every = Number(setting);
  if (!setting || !Number.isFinite(every) || every <= 0) return () => undefined;
  // Collections since the last line: a scavenge moves survivors of the young generation on, twice means promoted.
  const collections = { minor: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) collections.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) collections.major++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const sample = () => {
    const usage = process.memoryUsage();
    // Per space, used/reserved: garbage promoted to the old space or allocated large waits for a full collection.
    const spaces = getHeapSpaceStatistics()
      .filter((space) => ['new_space', 'old_space', 'large_object_space', 'code_space'].includes(space.space_name))
      .map((space) => `${space.space_name}=${mb(space.space_used_size)}/${mb(space.space_size)}`);
    log.info(
      `memory rss=${mb(usage.rss)} heapUsed=${mb(usage.heapUsed)} heapTotal=${mb(usage.heapTotal)} ` +
        `external=${mb(usage.external)} arrayBuffers=${mb(usage.arrayBuffers)} ${spaces.join(' ')} ` +
        `scavenges=${collections.minor} fullCollections=${collections.major}`,
    );
    collections.minor = 0;
    collections.major = 0;
  };
  const timer = setInterval(sample, every);
  timer.unref();
  return () => {
    clearInterval(timer);
    observer.disconnect();
  };
}
