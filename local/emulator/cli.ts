/**
 * `npm run emulator -- --port 5555 [--scale N] [--contacts C] [--seed S] [--token T] [--state writes.json]
 *   [--throttle-rate R] [--retry-after S] [--unavailable-rate R] [--latency-ms L] [--page-latency-ms P] [--dop-hint N] [--retention-days D]`
 * `--page-latency-ms`: server time of a 5000-row page of every column (proportionally less for fewer);
 * `--dop-hint`: the `x-ms-dop-hint` header every answer carries.
 * Serves the sample org until stopped and prints its Web API base URL.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ExportError } from '../../shared/errors';
import { DEFAULT_SAMPLE_ACCOUNTS } from '../sample-org';
import { startEmulator } from './server';

const argsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(0),
  scale: z.coerce.number().int().min(0).default(DEFAULT_SAMPLE_ACCOUNTS),
  contacts: z.coerce.number().int().min(0).optional(),
  seed: z.coerce.number().int().default(1),
  token: z.string().min(1).optional(),
  'throttle-rate': z.coerce.number().min(0).max(1).default(0),
  'retry-after': z.coerce.number().int().min(0).default(1),
  'unavailable-rate': z.coerce.number().min(0).max(1).default(0),
  'latency-ms': z.coerce.number().int().min(0).default(0),
  'page-latency-ms': z.coerce.number().int().min(0).default(0),
  'dop-hint': z.coerce.number().int().min(1).default(4),
  'retention-days': z.coerce.number().positive().default(7),
  state: z.string().min(1).optional(),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      scale: { type: 'string' },
      contacts: { type: 'string' },
      seed: { type: 'string' },
      token: { type: 'string' },
      'throttle-rate': { type: 'string' },
      'retry-after': { type: 'string' },
      'unavailable-rate': { type: 'string' },
      'latency-ms': { type: 'string' },
      'page-latency-ms': { type: 'string' },
      'dop-hint': { type: 'string' },
      'retention-days': { type: 'string' },
      state: { type: 'string' },
    },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(`Invalid arguments: ${parsed.error.message}`);
    process.exit(2);
  }
  const args = parsed.data;
  const emulator = await startEmulator({
    port: args.port,
    accounts: args.scale,
    contacts: args.contacts,
    seed: args.seed,
    token: args.token,
    changeTrackingRetentionDays: args['retention-days'],
    statePath: args.state,
    faults: {
      throttleRate: args['throttle-rate'],
      retryAfterSeconds: args['retry-after'],
      unavailableRate: args['unavailable-rate'],
      latencyMs: args['latency-ms'],
      pageLatencyMs: args['page-latency-ms'],
      dopHint: args['dop-hint'],
    },
  });
  console.log(emulator.baseUrl);
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  // A start that cannot go on (an unreadable --state file, a port in use) says what to do, not a stack trace.
  const fix = error instanceof ExportError && error.fix ? `\n${error.fix}` : '';
  console.error(`${error instanceof Error ? error.message : String(error)}${fix}`);
  process.exit(1);
});
