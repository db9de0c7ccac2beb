/** The WhoAmI function: the one Dataverse function the emulator answers (the export reads the organization id). */
import { sampleRowId } from '../sample-org/rows';
import type { OrgStore } from './store';
/** `WhoAmI` or `WhoAmI()`: both address the unbound function. */
export const isWhoAmI = (segment: string): boolean => segment === 'WhoAmI' || segment === 'WhoAmI()';

/** The emulator's only business unit: it models no business units, but WhoAmI must name one. */
const BUSINESS_UNIT_ID = '3d5f1b9a-0c47-4e8e-9a61-5b7e2c0d9f10';

/**
 * The WhoAmI function's answer, a WhoAmIResponse complex type with BusinessUnitId, UserId and OrganizationId
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoamiresponse); the user is the
 * sample org's first system user, the one the emulator's token stands for.
 */
export function whoAmI(baseUrl: string, store: OrgStore): Record<string, string> {
  return {
    '@odata.context': `${baseUrl}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
    BusinessUnitId: BUSINESS_UNIT_ID,
    UserId: sampleRowId(store.seed, 'systemuser', 0),
    OrganizationId: store.organizationId,
  };
}
