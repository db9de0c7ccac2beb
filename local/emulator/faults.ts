/**
 * Fault injection for the emulator, set per run and changeable while it serves: throttling (429 with
 * `Retry-After`) and 503s at a rate, added latency, expired change-tracking tokens, and a refused app
 * user. Decisions come from a seeded PRNG so a run with the same settings fails the same requests.
 */
import { z } from 'zod';
import { mulberry32 } from '../sample-org';

export const faultsSchema = z.object({
  /** Share of requests (0–1) answered 429 Too Many Requests. */
  throttleRate: z.number().min(0).max(1).default(0),
  /** `Retry-After` seconds sent with a 429. */
  retryAfterSeconds: z.number().int().min(0).default(1),
  /** Share of requests (0–1) answered 503 Service Unavailable, without `Retry-After`. */
  unavailableRate: z.number().min(0).max(1).default(0),
  /** Added to every response. */
  latencyMs: z.number().int().min(0).default(0),
  /** Server time of an entity-set page of 5000 rows of every column; fewer rows or columns take proportionally less. */
  pageLatencyMs: z.number().int().min(0).default(0),
  /**
   * The `x-ms-dop-hint` response header: the degree of parallelism Dataverse suggests to this client
   * (learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests).
   */
  dopHint: z.number().int().min(1).default(4),
  /** Every `$deltatoken` is answered with ExpiredVersionStamp. */
  expiredTokens: z.boolean().default(false),
  /** Every request is refused as from an app registration that is not an application user (403). */
  forbidden: z.boolean().default(false),
});
export type Faults = z.infer<typeof faultsSchema>;
export type FaultSettings = z.input<typeof faultsSchema>;

export type InjectedFailure = 'throttle' | 'unavailable';

export class FaultInjector {
  private current: Faults;
  private readonly random: () => number;

  constructor(settings: FaultSettings = {}, seed = 1) {
    this.current = faultsSchema.parse(settings);
    this.random = mulberry32(seed);
  }

  get settings(): Faults {
    return this.current;
  }

  /** Replaces the given settings, keeping the others. */
  set(settings: FaultSettings): void {
    this.current = faultsSchema.parse({ ...this.current, ...settings });
  }

  nextFailure(): InjectedFailure | undefined {
    const roll = this.random();
    if (roll < this.current.throttleRate) return 'throttle';
    if (roll < this.current.throttleRate + this.current.unavailableRate) return 'unavailable';
    return undefined;
  }
}
