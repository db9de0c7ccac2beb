import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closestFlag, editDistance } from '../../local/cli/options';
import { linesOf, runStart, type StartProcess } from '../support/start-process';

const runs: StartProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function finished(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runStart(args);
  runs.push(run);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('the npm start command line', () => {
  it('--help lists every flag with its default and an example, within 80 columns', async () => {
    const { code, stdout, stderr } = await finished(['--help']);
    expect(code, stderr).toBe(0);
    for (const flag of ['--port', '--data', '--dataverse', '--destination', '--changes-per-second', '--scale'])
      expect(stdout).toContain(flag);
    for (const flag of ['--psql-port', '--once', '--help']) expect(stdout).toContain(flag);
    expect(stdout).toContain('Default 7071.');
    expect(stdout).toContain('Example: --port 0');
    for (const line of stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('answers a misspelled flag in one line with the closest valid flag and exit code 2', async () => {
    const { code, stdout, stderr } = await finished(['--destinaton', 'x']);
    expect(code).toBe(2);
    expect(linesOf(stdout + stderr)).toEqual(['unknown option --destinaton; did you mean --destination?']);
  });

  it('answers a bad value in one line, without a stack trace', async () => {
    const { code, stdout, stderr } = await finished(['--port', 'seventy']);
    expect(code).toBe(2);
    expect(linesOf(stdout + stderr)).toEqual(["--port must be a whole number from 0 to 65535, not 'seventy'"]);
  });

  it('says in one line that the port is taken and suggests --port 0, before starting anything', async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const { code, stdout, stderr } = await finished(['--port', String(port)]);
    expect(code).toBe(1);
    const lines = linesOf(stdout + stderr);
    expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(2);
    expect(lines[0]).toContain(`port ${port} is already in use`);
    expect(lines[0]).toContain('--port 0');
  });
});

describe('did you mean', () => {
  it('measures edits and picks the nearest flag only when it is near', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closestFlag('destinaton')).toBe('destination');
    expect(closestFlag('prot')).toBe('port');
    expect(closestFlag('changes-per-secnd')).toBe('changes-per-second');
    expect(closestFlag('xyzzyplugh')).toBeUndefined();
  });
});
