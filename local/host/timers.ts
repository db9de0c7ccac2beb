/** Fires timer functions on their NCRONTAB schedules (seconds first), never overlapping one run with the next. */
import type { Timer } from '@azure/functions';
import { InvocationContext } from '@azure/functions';
import { Cron } from 'croner';
import { randomUUID } from 'node:crypto';
import type { TimerFunction } from '../../functions/definition';
import { ExportError } from '../../shared/errors';
import type { HostLog } from './console-log';

export interface RunningTimers {
  stop(): void;
}

export function startTimers<Deps>(options: {
  definitions: readonly TimerFunction<Deps>[];
  deps: Deps;
  resolve: (value: string) => string;
  log: HostLog;
}): RunningTimers {
  const jobs = options.definitions.map((definition) => {
    const schedule = options.resolve(definition.schedule);
    const handler = definition.handler(options.deps);
    let last: Date | undefined;
    try {
      return new Cron(schedule, { protect: true }, async (job: Cron) => {
        const now = new Date();
        const timer: Timer = {
          // croner skips a run while the previous one is still going, so a run is never late by more than its own tick.
          isPastDue: false,
          schedule: { adjustForDST: true },
          scheduleStatus: {
            last: (last ?? now).toISOString(),
            next: (job.nextRun() ?? now).toISOString(),
            lastUpdated: now.toISOString(),
          },
        };
        last = now;
        const context = new InvocationContext({
          invocationId: randomUUID(),
          functionName: definition.name,
          logHandler: options.log.handlerFor(definition.name),
        });
        try {
          await handler(timer, context);
        } catch (error) {
          context.error('timer run failed', error);
        }
      });
    } catch (error) {
      throw new ExportError('config', `Timer '${definition.name}' has an invalid schedule '${schedule}'`, {
        cause: error,
        where: definition.name,
        fix: 'Use NCRONTAB with six fields: {second} {minute} {hour} {day} {month} {day-of-week}, e.g. "*/5 * * * * *".',
      });
    }
  });
  return { stop: () => jobs.forEach((job) => job.stop()) };
}
