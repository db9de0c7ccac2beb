/**
 * Fires timer-triggered functions on the NCRONTAB schedules of their registered trigger bindings (seconds first,
 * `%Setting%` resolved), never overlapping one run with the next; each run is an invocation with the host's TimerInfo.
 */
import { Cron } from 'croner';
import { ExportError } from '../../shared/errors';
import type { HostLog } from './console-log';
import type { CapturedFunction } from './functions-core';
import { triggerBinding, type TriggerInput } from './invoke';
import { timerTrigger } from './trigger-data';

export interface RunningTimers {
  stop(): void;
}

export function startTimers(options: {
  functions: readonly CapturedFunction[];
  invoke(fn: CapturedFunction, trigger: TriggerInput): Promise<unknown>;
  resolve: (value: string) => string;
  log: HostLog;
}): RunningTimers {
  const jobs = options.functions.map((fn) => {
    const declared = triggerBinding(fn).schedule;
    const schedule = options.resolve(typeof declared === 'string' ? declared : '');
    let last: Date | undefined;
    try {
      return new Cron(schedule, { protect: true }, async (job: Cron) => {
        const now = new Date();
        // croner skips a run while the previous one is still going, so a run is never late by more than its own tick.
        const trigger = timerTrigger({
          last: last ?? now,
          next: job.nextRun() ?? now,
          lastUpdated: now,
          isPastDue: false,
        });
        last = now;
        try {
          await options.invoke(fn, trigger);
        } catch (error) {
          options.log.handlerFor(fn.name)('error', 'timer run failed', error);
        }
      });
    } catch (error) {
      throw new ExportError('config', `Timer '${fn.name}' has an invalid schedule '${schedule}'`, {
        cause: error,
        where: fn.name,
        fix: 'Use NCRONTAB with six fields: {second} {minute} {hour} {day} {month} {day-of-week}, e.g. "*/5 * * * * *".',
      });
    }
  });
  return { stop: () => jobs.forEach((job) => job.stop()) };
}
