import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/telemetry/logger';
import { redactor } from '../../shared/telemetry/redaction';

describe('logger', () => {
  it('writes fields with every line through the invocation context, redacted', () => {
    const lines: Array<[string, string]> = [];
    const context = new InvocationContext({ logHandler: (level, ...args) => lines.push([level, args.join(' ')]) });
    redactor.register('registered-secret-xyz');
    const logger = createLogger(context, { profile: 'sales' }).with({ table: 'account' });
    logger.info('applied batch', { batch: 'u-1', rows: 3 });
    logger.error('connect failed', new Error('login failed with Password=hunter22 for registered-secret-xyz'));
    expect(lines).toEqual([
      ['information', 'applied batch profile="sales" table="account" batch="u-1" rows=3'],
      ['error', 'connect failed: Error: login failed with Password=*** for *** profile="sales" table="account"'],
    ]);
  });
});
