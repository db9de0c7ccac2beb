/** Reads `local.settings.json` as Core Tools does: its "Values" become environment settings (the shell's own win). */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ExportError } from '../../shared/errors';

const localSettingsFile = z.object({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.string()).default({}),
});

export async function readLocalSettings(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ExportError('config', `${path} is not valid JSON`, {
      cause: error,
      where: path,
      fix: 'Compare it with local.settings.sample.json.',
    });
  }
  const parsed = localSettingsFile.safeParse(json);
  if (!parsed.success) {
    throw new ExportError(
      'config',
      `${path} does not have the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      {
        where: path,
        fix: 'It must be {"IsEncrypted": false, "Values": {"NAME": "text", ...}}; see local.settings.sample.json.',
      },
    );
  }
  if (parsed.data.IsEncrypted) {
    throw new ExportError('config', `${path} is encrypted`, {
      where: path,
      fix: 'Decrypt it with `func settings decrypt` or write it in plain text.',
    });
  }
  return parsed.data.Values;
}
