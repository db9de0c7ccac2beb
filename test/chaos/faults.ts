/**
 * The chaos suite's fault injectors, each real and each driven by the run's seed: Dataverse throttling and
 * outages (the emulator's 429s with Retry-After and 503s, on a changing schedule), destination connections
 * dropped by the PostgreSQL server (pg_terminate_backend), and change-queue deliveries duplicated and
 * reordered on the Azurite queue the hosts read, without taking any message away from them.
 */
import type { QueueClient } from '@azure/storage-queue';
import { Client } from 'pg';
import type { Emulator } from '../../local/emulator/server';
import type { FaultSettings } from '../../local/emulator/faults';

/** The test's own database sessions carry this name, so dropping "the product's connections" spares them. */
export const CHAOS_APPLICATION_NAME = 'dataverse-export-chaos';

export interface FaultCounts {
  faultSchedules: number;
  connectionsDropped: number;
  duplicatesSent: number;
  delayedDuplicatesSent: number;
  originalsDelayed: number;
}

export interface RunningFault {
  stop(): Promise<void>;
}

/** Runs `tick` every `everyMs` until stopped; a tick that fails is reported, not fatal (the fault's target may be down). */
function every(everyMs: () => number, tick: () => Promise<void>, report: (error: unknown) => void): RunningFault {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(() => {
      running = tick()
        .catch(report)
        .finally(() => {
          if (!stopped) schedule();
        });
    }, everyMs());
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Dataverse's weather: a new mix of throttling (Retry-After 0 or 1 s) and outages every couple of seconds. */
export function startDataverseFaults(
  emulator: Emulator,
  random: () => number,
  counts: FaultCounts,
  report: (error: unknown) => void,
): RunningFault {
  const schedules: FaultSettings[] = [
    { throttleRate: 0.05, retryAfterSeconds: 0, unavailableRate: 0.05 },
    { throttleRate: 0.02, retryAfterSeconds: 1, unavailableRate: 0 },
    { throttleRate: 0, unavailableRate: 0.1 },
    { throttleRate: 0, unavailableRate: 0 },
  ];
  const running = every(
    () => 1_000 + random() * 2_000,
    async () => {
      emulator.faults.set(schedules[Math.floor(random() * schedules.length)] as FaultSettings);
      counts.faultSchedules++;
    },
    report,
  );
  return {
    async stop() {
      await running.stop();
      emulator.faults.set({ throttleRate: 0, unavailableRate: 0 });
    },
  };
}

/** Drops every product connection to the destination server now and then, as a failover or a network blip does. */
export function startConnectionDrops(
  connectionString: string,
  random: () => number,
  counts: FaultCounts,
  report: (error: unknown) => void,
): RunningFault {
  return every(
    () => 1_500 + random() * 3_000,
    async () => {
      const client = new Client({ connectionString, application_name: CHAOS_APPLICATION_NAME });
      await client.connect();
      try {
        const { rowCount } = await client.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND application_name <> $1`,
          [CHAOS_APPLICATION_NAME],
        );
        counts.connectionsDropped += rowCount ?? 0;
      } finally {
        await client.end();
      }
    },
    report,
  );
}

/**
 * At-least-once delivery at its worst: copies of messages sent again at once (duplicates) or after a delay
 * (a stale batch arriving after newer ones), and originals held back for a while (reordering). Copies are
 * peeked, which leaves the original's delivery count alone; an original is held back at most once, so the
 * agent never pushes a message towards the poison queue by itself.
 */
export function startQueueChaos(
  queue: QueueClient,
  random: () => number,
  counts: FaultCounts,
  report: (error: unknown) => void,
): RunningFault {
  const heldBack = new Set<string>();
  // Often: a host picks a visible message up within a few hundred milliseconds, so a slower agent can miss them all.
  return every(
    () => 20 + random() * 80,
    async () => {
      const peeked = await queue.peekMessages({ numberOfMessages: 8 });
      for (const message of peeked.peekedMessageItems) {
        const roll = random();
        if (roll < 0.3) {
          await queue.sendMessage(message.messageText, { messageTimeToLive: -1 });
          counts.duplicatesSent++;
        } else if (roll < 0.5) {
          await queue.sendMessage(message.messageText, {
            messageTimeToLive: -1,
            visibilityTimeout: 1 + Math.floor(random() * 5),
          });
          counts.delayedDuplicatesSent++;
        }
      }
      // Rarely, so that the agent's own receives (which count as deliveries) stay far below the dead-letter limit.
      if (random() >= 0.05) return;
      const received = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 });
      for (const message of received.receivedMessageItems) {
        // Held back 1–4 s when first seen; a message seen again is let go at once.
        const delay = heldBack.has(message.messageId) ? 0 : 1 + Math.floor(random() * 4);
        heldBack.add(message.messageId);
        await queue.updateMessage(message.messageId, message.popReceipt, undefined, delay);
        if (delay > 0) counts.originalsDelayed++;
      }
    },
    report,
  );
}
