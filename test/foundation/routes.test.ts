import { describe, expect, it } from 'vitest';
import { compileRoute } from '../../local/host/routes';

describe('compileRoute', () => {
  it('matches literals case-insensitively and captures parameters', () => {
    const match = compileRoute('profiles/{name}/tables/{table}/resync');
    expect(match('Profiles/sales/TABLES/account/resync')).toEqual({ name: 'sales', table: 'account' });
    expect(match('profiles/sales/tables/account')).toBeUndefined();
    expect(match('profiles/sales/tables/account/resync/extra')).toBeUndefined();
  });

  it('supports optional parameters, constraints and catch-alls', () => {
    expect(compileRoute('profiles/{name?}')('profiles')).toEqual({});
    expect(compileRoute('profiles/{name:alpha}')('profiles/a%20b')).toEqual({ name: 'a b' });
    expect(compileRoute('files/{*path}')('files/a/b/c.csv')).toEqual({ path: 'a/b/c.csv' });
  });
});
