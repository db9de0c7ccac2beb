/** The lake's Blob endpoint is derived from its DFS endpoint only for Azure Storage hosts the profile rules accept. */
import { describe, expect, it } from 'vitest';
import { blobEndpoint } from '../../shared/destinations/lake';

describe('blobEndpoint', () => {
  it('turns an Azure Storage dfs endpoint of each cloud into its blob endpoint', () => {
    expect(blobEndpoint('https://lake01.dfs.core.windows.net')).toBe('https://lake01.blob.core.windows.net');
    expect(blobEndpoint('https://lake01.dfs.core.usgovcloudapi.net/')).toBe(
      'https://lake01.blob.core.usgovcloudapi.net',
    );
    expect(blobEndpoint('https://lake01.dfs.core.chinacloudapi.cn')).toBe('https://lake01.blob.core.chinacloudapi.cn');
  });

  it('leaves any other host as given, so the token goes only where the allow-list named', () => {
    expect(blobEndpoint('https://lake.dfs.contoso.net')).toBe('https://lake.dfs.contoso.net');
    expect(blobEndpoint('http://127.0.0.1:10000/devstoreaccount1')).toBe('http://127.0.0.1:10000/devstoreaccount1');
    expect(blobEndpoint('https://evil.dfs.core.windows.net.attacker.example')).toBe(
      'https://evil.dfs.core.windows.net.attacker.example',
    );
  });
});
