/**
 * The command line of `npm start`: every flag with its default and an example (printed by --help), parsed with
 * node:util parseArgs. A mistake is answered in one line that names the closest valid flag, never a stack trace.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SAMPLE_ACCOUNTS } from '../sample-org';
import { wrapWords } from './terminal';

export interface StartOptions {
  port: number;
  dataverse?: string;
  destination?: string;
  changesPerSecond: number;
  once: boolean;
  scale: number;
  /** The folder whose `local` subfolder keeps everything a run writes (Azurite, PGlite, the function key). */
  data: string;
  psqlPort: number;
  /** Rows per initial-sync page (Azure uses 5000); smaller shows the page checkpoints at work. */
  pageSize?: number;
}

/** A mistake answered in one line; the process exits with `exitCode` (2 for the command line, as most tools do). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

interface Flag {
  name: string;
  value?: string;
  default?: string;
  text: string;
  example: string;
}

const FLAGS: Flag[] = [
  {
    name: 'port',
    value: 'n',
    default: '7071',
    text: 'port of the API and the console; 0 picks a free one',
    example: '--port 0',
  },
  {
    name: 'data',
    value: 'folder',
    default: '.data',
    text: 'where a run keeps its data, so a restart continues',
    example: '--data /tmp/dvx',
  },
  {
    name: 'dataverse',
    value: 'url',
    text: 'a real Dataverse org instead of the built-in emulator (needs DATAVERSE_TOKEN or an app registration)',
    example: '--dataverse https://contoso.crm.dynamics.com',
  },
  {
    name: 'destination',
    value: 'connection',
    text: 'a PostgreSQL URL or SQL Server connection string instead of the embedded PGlite database',
    example: '--destination postgres://user:pw@localhost/db',
  },
  {
    name: 'changes-per-second',
    value: 'n',
    default: '1',
    text: 'edits the change generator makes to the sample org; 0 for none',
    example: '--changes-per-second 0',
  },
  {
    name: 'scale',
    value: 'n',
    default: String(DEFAULT_SAMPLE_ACCOUNTS),
    text: 'accounts in the sample org (contacts and the rest follow)',
    example: '--scale 10000',
  },
  {
    name: 'psql-port',
    value: 'n',
    default: '0',
    text: 'loopback port where psql reaches the embedded database; 0 picks a free one',
    example: '--psql-port 5433',
  },
  {
    name: 'page-size',
    value: 'rows',
    text: 'rows per initial-sync page (at most 5000, as Dataverse pages); smaller shows the checkpoints at work',
    example: '--page-size 500',
  },
  { name: 'once', text: 'sync, make 300 changes, check destination equals source, exit 0 or 1', example: '--once' },
  { name: 'help', text: 'print this help', example: '--help' },
];

/** Edit distance (insertions, deletions, substitutions): how far a typed flag is from a valid one. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The valid flag nearest to `typed`, when it is near enough to be a typo (at most a third of it differs). */
export function closestFlag(typed: string): string | undefined {
  const [best] = FLAGS.map((flag) => ({ name: flag.name, distance: editDistance(typed, flag.name) })).sort(
    (a, b) => a.distance - b.distance,
  );
  return best && best.distance <= Math.max(2, Math.ceil(typed.length / 3)) ? best.name : undefined;
}

/** Every flag, its default and an example, wrapped to `columns`. */
export function usage(columns: number): string {
  const lines = ['Usage: npm start -- [options]', '', 'Runs the whole product locally on embedded defaults.', ''];
  for (const flag of FLAGS) {
    const name = `--${flag.name}${flag.value ? ` <${flag.value}>` : ''}`;
    const detail = `${flag.text}. ${flag.default === undefined ? '' : `Default ${flag.default}. `}Example: ${flag.example}`;
    lines.push(`  ${name}`, ...wrapWords(detail, columns - 6).map((line) => `      ${line}`));
  }
  lines.push('', 'Example: npm start -- --port 0 --changes-per-second 0');
  return lines.join('\n');
}

function checkFlagNames(argv: string[]): void {
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-h') continue;
    const typed = arg.replace(/^-+/, '').split('=')[0] ?? '';
    if (FLAGS.some((flag) => flag.name === typed)) continue;
    const closest = closestFlag(typed);
    throw new UsageError(
      `unknown option ${arg.split('=')[0]}; ${closest ? `did you mean --${closest}?` : 'see npm start -- --help'}`,
    );
  }
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  return value;
}

/** The options, or 'help' when --help (or -h) was asked for; a UsageError for any mistake. */
export function parseStartOptions(argv: string[]): StartOptions | 'help' {
  checkFlagNames(argv);
  const options = Object.fromEntries(
    FLAGS.map((flag) => [
      flag.name,
      flag.value
        ? { type: 'string' as const, ...(flag.default === undefined ? {} : { default: flag.default }) }
        : { type: 'boolean' as const, default: false, ...(flag.name === 'help' ? { short: 'h' } : {}) },
    ]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs says e.g. "Option '--port <value>' argument missing": its first sentence is the one line.
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see npm start -- --help)`);
  }
  if (values.help) return 'help';
  const text = (name: string) => values[name] as string;
  return {
    port: integer('port', text('port'), 0, 65_535),
    ...(values.dataverse ? { dataverse: text('dataverse') } : {}),
    ...(values.destination ? { destination: text('destination') } : {}),
    changesPerSecond: integer('changes-per-second', text('changes-per-second'), 0, 1000),
    once: values.once === true,
    scale: integer('scale', text('scale'), 1, 1_000_000),
    data: text('data'),
    psqlPort: integer('psql-port', text('psql-port'), 0, 65_535),
    ...(values['page-size'] ? { pageSize: integer('page-size', text('page-size'), 1, 5000) } : {}),
  };
}
