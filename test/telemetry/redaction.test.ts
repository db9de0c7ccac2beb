import { describe, expect, it } from 'vitest';
import { SecretRedactor } from '../../shared/telemetry/redaction';

describe('SecretRedactor', () => {
  it('masks registered secrets wherever they appear', () => {
    const redactor = new SecretRedactor();
    redactor.register('s3cr3t-value-123');
    expect(redactor.redact('token s3cr3t-value-123 and again s3cr3t-value-123')).toBe('token *** and again ***');
  });

  it.each([
    [
      'Server=tcp:x.database.windows.net;Password=hunter2!;Encrypt=True',
      'Server=tcp:x.database.windows.net;Password=***;Encrypt=True',
    ],
    ['AccountName=a;AccountKey=abc123==;EndpointSuffix=core', 'AccountName=a;AccountKey=***;EndpointSuffix=core'],
    ['postgres://app:pa55word@db:5432/x', 'postgres://app:***@db:5432/x'],
    ['Authorization: Bearer eyJhbGciOi.abc.def', 'Authorization: Bearer ***'],
    [
      'https://a.blob.core.windows.net/c/b?sv=2024&sig=AbC%2Bd%3D',
      'https://a.blob.core.windows.net/c/b?sv=2024&sig=***',
    ],
    ['client_secret=xyz&scope=a', 'client_secret=***&scope=a'],
  ])('masks secret shapes nobody registered: %s', (text, expected) => {
    expect(new SecretRedactor().redact(text)).toBe(expected);
  });

  it.each([
    ['postgres://exporter:Pa%24%24word-123@db:5432/x', 'password "Pa$$word-123" is wrong', 'password "***" is wrong'],
    ['Server=tcp:x;User ID=u;Password="hunter2;!";Encrypt=True', '{"password":"hunter2;!"}', '{"password":"***"}'],
    ['AccountName=a;AccountKey=abc123==xyz;EndpointSuffix=core', 'key abc123==xyz refused', 'key *** refused'],
  ])('masks the password inside a registered connection string on its own: %s', (connectionString, text, expected) => {
    const redactor = new SecretRedactor();
    redactor.register(connectionString);
    expect(redactor.redact(text)).toBe(expected);
  });

  it('leaves ordinary text alone and ignores values too short to be secrets', () => {
    const redactor = new SecretRedactor();
    redactor.register('abc');
    expect(redactor.redact('abc account contact')).toBe('abc account contact');
  });
});
