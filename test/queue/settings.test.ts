import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/config/settings';
import { ExportError } from '../../shared/errors';

const storage = 'UseDevelopmentStorage=true';

describe('change queue settings', () => {
  it('defaults to the storage-queue transport and the dataverse-changes queue', () => {
    expect(loadSettings({ AzureWebJobsStorage: storage }).changeQueue).toEqual({ queueName: 'dataverse-changes' });
  });

  it('chooses Service Bus when a namespace is set, with the managed identity for it', () => {
    const settings = loadSettings({
      AzureWebJobsStorage: storage,
      CHANGES_QUEUE: 'changes-1',
      ServiceBus__fullyQualifiedNamespace: 'sb-dvexport.servicebus.windows.net',
      ServiceBus__clientId: '00000000-0000-0000-0000-000000000002',
    });
    expect(settings.changeQueue).toEqual({
      queueName: 'changes-1',
      serviceBus: {
        fullyQualifiedNamespace: 'sb-dvexport.servicebus.windows.net',
        clientId: '00000000-0000-0000-0000-000000000002',
      },
    });
  });

  it('names a queue name that would not work on both transports and a namespace given as a URL', () => {
    const error = (() => {
      try {
        loadSettings({
          AzureWebJobsStorage: storage,
          CHANGES_QUEUE: 'Changes_Queue',
          ServiceBus__fullyQualifiedNamespace: 'https://sb.servicebus.windows.net/',
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).message).toMatch(/CHANGES_QUEUE: 3 to 63 lower-case/);
    expect((error as ExportError).message).toMatch(
      /ServiceBus__fullyQualifiedNamespace: a host name .* without https:\/\//,
    );
  });
});
