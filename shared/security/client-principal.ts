/**
 * Who called, as App Service Authentication (Easy Auth) tells the app: the `X-MS-CLIENT-PRINCIPAL` header, a
 * base64 JSON `{ auth_typ, name_typ, role_typ, claims: [{ typ, val }] }` the platform sets on every
 * authenticated request and strips from incoming ones
 * (https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities#access-user-claims-in-app-code).
 * Microsoft Entra app roles arrive as claims of type `roles` (the token's `roles` claim).
 */
import { z } from 'zod';

export const CLIENT_PRINCIPAL_HEADER = 'x-ms-client-principal';

const principalSchema = z.object({
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).default([]),
});

/** Role claim types App Service uses: Entra's `roles`, or the WS-Federation role URI it may name in role_typ. */
const ROLE_CLAIM_TYPES = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

export type RoleCheck = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** Whether the header's principal holds `role`; absent or unreadable is 401, a principal without the role 403. */
export function checkAppRole(header: string | null, role: string): RoleCheck {
  if (header === null || header.trim() === '') {
    return {
      ok: false,
      status: 401,
      message: 'Sign in with Microsoft Entra ID: this API needs an authenticated caller (App Service Authentication).',
    };
  }
  let principal: z.infer<typeof principalSchema>;
  try {
    principal = principalSchema.parse(JSON.parse(Buffer.from(header, 'base64').toString('utf8')));
  } catch {
    return { ok: false, status: 401, message: 'The client principal header cannot be read.' };
  }
  const roleTypes = new Set([...ROLE_CLAIM_TYPES, ...(principal.role_typ ? [principal.role_typ] : [])]);
  const held = principal.claims.some((claim) => roleTypes.has(claim.typ) && claim.val === role);
  return held
    ? { ok: true }
    : {
        ok: false,
        status: 403,
        message: `The caller does not hold the app role '${role}'; an admin grants it under Enterprise applications → the app → Users and groups.`,
      };
}
