/**
 * Settings of a lake destination: which storage account and container, and how the profile writes
 * (append-only, in-place with snapshots, or incremental update folders; Year or Month partitions).
 */
import { z } from 'zod';

const connection = z.union([
  /** Azurite or a key-based account. */
  z.strictObject({ connectionString: z.string().min(1) }),
  /** `https://<account>.blob.core.windows.net` (or `.dfs.`) with the app's managed identity. */
  z.strictObject({ accountUrl: z.url({ protocol: /^https?$/ }) }),
]);

/** Azure's container rule: 3–63 lower-case letters, digits and single hyphens, starting and ending alphanumeric. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** Where in the account and how the profile writes: shared by these settings and the export profile's lake destination. */
export const lakeTargetShape = {
  /** Default `dataverse-<environmentName>-<organizationUniqueName>`, as Synapse Link names it. */
  container: z
    .string()
    .regex(CONTAINER_NAME, 'container names are 3–63 lower-case letters, digits and single hyphens')
    .optional(),
  environmentName: z.string().min(1).optional(),
  organizationUniqueName: z.string().min(1).optional(),
  mode: z.enum(['appendOnly', 'inPlace', 'incremental']).default('appendOnly'),
  partitionGranularity: z.enum(['Year', 'Month']).default('Year'),
  /** Incremental update folders: minutes per folder, 5 minutes to 24 hours as Synapse Link allows. */
  incrementalIntervalMinutes: z.int().min(5).max(1440).default(60),
  /** In-place mode: minutes between snapshots (Synapse Link: hourly). */
  snapshotIntervalMinutes: z.int().min(1).max(1440).default(60),
};

type ContainerNaming = {
  container?: string | undefined;
  environmentName?: string | undefined;
  organizationUniqueName?: string | undefined;
};

/** The container is named, or can be named after the environment and organisation. */
export function requireContainerName<T extends z.ZodType<ContainerNaming>>(schema: T): T {
  return schema.refine(
    (config) =>
      config.container !== undefined ||
      (config.environmentName !== undefined && config.organizationUniqueName !== undefined),
    {
      message: 'give either container or both environmentName and organizationUniqueName',
      path: ['container'],
    },
  );
}

export const lakeDestinationConfigSchema = requireContainerName(z.strictObject({ connection, ...lakeTargetShape }));

export type LakeDestinationConfig = z.input<typeof lakeDestinationConfigSchema>;
export type ParsedLakeDestinationConfig = z.output<typeof lakeDestinationConfigSchema>;

/**
 * `dataverse-<env>-<org>` in container-name form: lower case, other characters as hyphens, cut to 63
 * characters (Synapse Link's own shortening rule is not documented; docs/reference/lake-format.md §7).
 */
export function defaultContainerName(environmentName: string, organizationUniqueName: string): string {
  const name = `dataverse-${environmentName}-${organizationUniqueName}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name.slice(0, 63).replace(/-+$/, '');
}
