/**
 * App settings contract: what shared/config/settings.ts, every env read in shared/ and functions/, the
 * `%SETTING%` references and the identity-based connections need, against what the ARM template compiled by
 * the real Bicep CLI sets on the function app.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { BicepCli } from '../support/bicep-cli';
import { armResources, type ArmTemplate } from './arm-rules';
import { envReads, functionAppSettings, percentReferences } from './app-settings-contract';
import { checkAppSettings, settingsContract, unclassifiedReads } from './app-settings-check';
import { compileInfraForTests, infraRoot, repoRoot, type Compiled } from './compiled-infra';

const parameterFile = JSON.parse(readFileSync(join(infraRoot, 'main.parameters.json'), 'utf8')) as {
  parameters: Record<string, { value: unknown }>;
};
const mainValues = Object.fromEntries(
  Object.entries(parameterFile.parameters).map(([name, entry]) => [name, entry.value]),
);

let cli: BicepCli | undefined;
let compiled: Compiled | undefined;
let main: ArmTemplate | undefined;

beforeAll(async () => {
  ({ cli, compiled, main } = await compileInfraForTests('main.bicep'));
}, 600_000);

afterAll(async () => compiled?.dispose());

function compiledMain(context: TestContext): ArmTemplate {
  if (!cli) context.skip('no Bicep CLI (see the warning above for how to get it)');
  if (!main) throw new Error(`main.bicep did not compile: ${JSON.stringify(compiled?.build.diagnostics)}`);
  return main;
}

describe('what the code reads', () => {
  it('finds the settings, env reads and %SETTING% references', () => {
    expect([...envReads(repoRoot).keys()]).toContain('AZURE_CLIENT_ID');
    expect([...percentReferences(repoRoot).keys()].sort()).toEqual([
      'CHANGES_QUEUE',
      'FAILURE_RETENTION_SCHEDULE',
      'LAKE_MAINTENANCE_SCHEDULE',
      'POLL_SCHEDULE',
      'SCHEMA_REFRESH_SCHEDULE',
      'TASKHUB_NAME',
    ]);
    expect(settingsContract(repoRoot).ServiceBus__fullyQualifiedNamespace?.scope).toBe('required');
  });

  it('classifies every setting the code reads as required, optional or local-only', () => {
    expect(unclassifiedReads(repoRoot)).toEqual([]);
  });
});

describe('the compiled function app settings', () => {
  it('set every required setting, spelled as the code and host read it, and nothing else', (context) => {
    const template = compiledMain(context);
    expect(Object.keys(functionAppSettings(template).settings).length).toBeGreaterThan(10);
    expect(checkAppSettings(template, repoRoot, mainValues)).toEqual([]);
  });

  type Edit = (settings: Record<string, unknown>) => void;
  const rename =
    (from: string, to: string): Edit =>
    (settings) => {
      if (!(from in settings)) throw new Error(`${from} is not set, the edit proves nothing`);
      settings[to] = settings[from];
      delete settings[from];
    };
  const variants: { name: string; edit: Edit; expected: RegExp }[] = [
    {
      name: 'the Service Bus namespace spelled differently',
      edit: rename('ServiceBus__fullyQualifiedNamespace', 'ServiceBus__fullyQualifiedNameSpace'),
      expected: /^ServiceBus__fullyQualifiedNamespace: required .*spelled differently/,
    },
    {
      name: 'host storage with one underscore',
      edit: rename('AzureWebJobsStorage__queueServiceUri', 'AzureWebJobsStorage_queueServiceUri'),
      expected: /^AzureWebJobsStorage__queueServiceUri: required .*spelled differently/,
    },
    {
      name: 'a %SETTING% the template does not set',
      edit: (settings) => {
        delete settings.FAILURE_RETENTION_SCHEDULE;
      },
      expected: /^FAILURE_RETENTION_SCHEDULE: required \(named as %FAILURE_RETENTION_SCHEDULE%/,
    },
    {
      name: 'the task hub of host.json unset',
      edit: (settings) => {
        delete settings.TASKHUB_NAME;
      },
      expected: /^TASKHUB_NAME: required/,
    },
    {
      name: 'a key-based storage connection string',
      edit: (settings) => {
        settings.AzureWebJobsStorage = 'DefaultEndpointsProtocol=https;AccountKey=x';
      },
      expected: /^AzureWebJobsStorage: local only/,
    },
    {
      name: 'a system-assigned credential value',
      edit: (settings) => {
        settings.ServiceBus__credential = 'systemassigned';
      },
      expected: /^ServiceBus__credential: must be "managedidentity"/,
    },
    {
      name: 'AZURE_CLIENT_ID unset',
      edit: (settings) => {
        delete settings.AZURE_CLIENT_ID;
      },
      expected: /^AZURE_CLIENT_ID: required/,
    },
    {
      name: 'the initial sync read streams unset',
      edit: (settings) => {
        delete settings.INITIAL_SYNC_READ_STREAMS;
      },
      expected: /^INITIAL_SYNC_READ_STREAMS: required/,
    },
    {
      name: 'more read streams than Dataverse allows concurrent requests',
      edit: (settings) => {
        settings.INITIAL_SYNC_READ_STREAMS = '64';
      },
      expected: /fail the app's validation.*INITIAL_SYNC_READ_STREAMS/s,
    },
    {
      name: 'a setting nothing reads',
      edit: (settings) => {
        settings.STATE_QUEUE_URL = 'https://x';
      },
      expected: /^STATE_QUEUE_URL: set on the function app but read by nothing/,
    },
    {
      name: 'a Flex-forbidden setting',
      edit: (settings) => {
        settings.FUNCTIONS_WORKER_RUNTIME = 'node';
      },
      expected: /^FUNCTIONS_WORKER_RUNTIME: not allowed on Flex/,
    },
    {
      name: 'a schedule the app rejects',
      edit: (settings) => {
        settings.LAKE_MAINTENANCE_SCHEDULE = '0 * * * *';
      },
      expected: /fail the app's validation.*LAKE_MAINTENANCE_SCHEDULE/s,
    },
    {
      name: 'a client id from another deployment',
      edit: (settings) => {
        settings.ServiceBus__clientId = "[parameters('appInsightsConnectionString')]";
      },
      expected: /^ServiceBus__clientId: must be the client id of the app's identity/,
    },
  ];

  it.for(variants)('fails on $name', ({ edit, expected }, context) => {
    const broken = structuredClone(compiledMain(context));
    const config = armResources(broken).find(({ resource }) => resource.type === 'Microsoft.Web/sites/config');
    edit(config!.resource.properties as Record<string, unknown>);
    const problems = checkAppSettings(broken, repoRoot, mainValues);
    expect(
      problems.some((problem) => expected.test(problem)),
      problems.join('\n'),
    ).toBe(true);
  });
});
