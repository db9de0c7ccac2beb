import { describe, expect, it } from 'vitest';
import { lakeUrlProblem, securityPolicy, sourceUrlProblem } from '../../shared/security/policy';

const azure = securityPolicy({});
const local = securityPolicy({ DVX_LOCAL_MODE: '1' });

describe('which hosts a profile may name', () => {
  it('accepts Dataverse hosts of the Microsoft clouds, and nothing that merely looks like one', () => {
    for (const host of [
      'contoso.crm.dynamics.com',
      'contoso.crm4.dynamics.com',
      'contoso.crm11.dynamics.com',
      'contoso.crm9.dynamics.com',
      'contoso.crm.microsoftdynamics.us',
      'contoso.crm.appsplatform.us',
      'contoso.crm.dynamics.cn',
    ]) {
      expect(sourceUrlProblem(azure, `https://${host}/api/data/v9.2/`), host).toBeUndefined();
    }
    for (const url of [
      'https://contoso.crm.dynamics.com.attacker.example/api/data/v9.2/',
      'https://crm.dynamics.com/api/data/v9.2/',
      'https://contoso.crmx.dynamics.com/api/data/v9.2/',
      'http://contoso.crm.dynamics.com/api/data/v9.2/',
      'https://user:pw@contoso.crm.dynamics.com/api/data/v9.2/',
      'https://attacker.example/api/data/v9.2/',
      'http://127.0.0.1:8080/api/data/v9.2/',
      'http://localhost/api/data/v9.2/',
      'https://[::1]/api/data/v9.2/',
      'http://169.254.169.254/api/data/v9.2/',
      'https://10.0.0.4/api/data/v9.2/',
      'https://[fd00::1]/api/data/v9.2/',
    ]) {
      expect(sourceUrlProblem(azure, url), url).toBeDefined();
    }
  });

  it('accepts loopback and private addresses in local mode only, and allow-listed hosts anywhere', () => {
    expect(sourceUrlProblem(local, 'http://127.0.0.1:8080/api/data/v9.2/')).toBeUndefined();
    expect(sourceUrlProblem(local, 'https://attacker.example/api/data/v9.2/')).toBeDefined();
    const listed = securityPolicy({ DVX_ALLOWED_SOURCE_HOSTS: 'proxy.contoso.com,*.contoso.net' });
    expect(sourceUrlProblem(listed, 'https://proxy.contoso.com/api/data/v9.2/')).toBeUndefined();
    expect(sourceUrlProblem(listed, 'https://a.contoso.net/api/data/v9.2/')).toBeUndefined();
    expect(sourceUrlProblem(listed, 'https://contoso.net.attacker.example/api/data/v9.2/')).toBeDefined();
    expect(sourceUrlProblem(listed, 'http://proxy.contoso.com/api/data/v9.2/')).toBeDefined();
  });

  it("accepts lake endpoints of this app's cloud only; Azurite in local mode", () => {
    expect(lakeUrlProblem(azure, 'https://contosolake.dfs.core.windows.net')).toBeUndefined();
    expect(lakeUrlProblem(azure, 'https://contosolake.blob.core.windows.net')).toBeUndefined();
    expect(lakeUrlProblem(azure, 'https://contosolake.blob.core.chinacloudapi.cn')).toBeDefined();
    expect(lakeUrlProblem(azure, 'https://contosolake.queue.core.windows.net')).toBeDefined();
    expect(lakeUrlProblem(azure, 'https://contosolake.blob.core.windows.net.attacker.example')).toBeDefined();
    expect(lakeUrlProblem(azure, 'http://127.0.0.1:10000/devstoreaccount1')).toBeDefined();
    expect(lakeUrlProblem(local, 'http://127.0.0.1:10000/devstoreaccount1')).toBeUndefined();
    const china = securityPolicy({ AzureWebJobsStorage__blobServiceUri: 'https://st.blob.core.chinacloudapi.cn' });
    expect(lakeUrlProblem(china, 'https://contosolake.blob.core.chinacloudapi.cn')).toBeUndefined();
    expect(lakeUrlProblem(china, 'https://contosolake.blob.core.windows.net')).toBeDefined();
  });
});
