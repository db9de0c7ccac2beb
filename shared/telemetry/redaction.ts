/**
 * Keeps secrets out of everything the product writes: logs, error messages, status and failed-record
 * files. Secret values resolved at run time (Key Vault, app settings) are registered here; known secret
 * shapes (connection-string passwords and keys, bearer tokens, SAS signatures) are masked even when nobody
 * registered them.
 */
import { decodeOrKeep } from '../percent-encoding';

const MASK = '***';

/** `Password=…`, `AccountKey=…` and the like, in connection strings and query strings; the value may be quoted. */
const CREDENTIAL_PAIR =
  /\b(password|pwd|accountkey|sharedaccesskey|client_?secret)(\s*=\s*)("[^"]*"|'[^']*'|[^;&\s]+)/gi;

const secretShapes: Array<[RegExp, string]> = [
  [CREDENTIAL_PAIR, `$1$2${MASK}`],
  [/\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1${MASK}`],
  [/\b(sig=)[A-Za-z0-9%+/=]+/gi, `$1${MASK}`],
  [/\b((?:postgres(?:ql)?|mssql|sqlserver):\/\/[^:/\s@]+:)[^@\s]+@/gi, `$1${MASK}@`],
];

/** Passwords and keys inside a connection string: `Password=…;`, `AccountKey=…`, and the password of a URL. */
function embeddedCredentials(connectionString: string): string[] {
  const values = [...connectionString.matchAll(CREDENTIAL_PAIR)].map((match) =>
    (match[3] ?? '').replace(/^(["'])(.*)\1$/, '$2'),
  );
  const url = URL.parse(connectionString);
  if (url?.password) values.push(url.password, decodeOrKeep(url.password));
  return values;
}

export class SecretRedactor {
  private readonly secrets = new Set<string>();

  /**
   * Values shorter than 6 characters are not registered: masking them would mangle ordinary words. The
   * password or key inside a connection string is registered on its own too: a driver error may quote it
   * without the rest of the string (`password "…"`, `{"password":"…"}`), where no shape would catch it.
   */
  register(secret: string): void {
    for (const value of [secret, ...embeddedCredentials(secret)]) if (value.length >= 6) this.secrets.add(value);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join(MASK);
    for (const [shape, replacement] of secretShapes) result = result.replace(shape, replacement);
    return result;
  }
}

/** The process-wide redactor: secrets are registered where they are resolved, logs are redacted where they are written. */
export const redactor = new SecretRedactor();
