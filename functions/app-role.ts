/**
 * In Azure the admin API sits behind App Service Authentication (infra/modules/auth.bicep) and, with
 * REQUIRE_APP_ROLE set, every HTTP function also requires that Entra app role of its caller, so a leaked
 * function key alone opens nothing. Locally the setting is empty and the function key is the only check.
 * Every HTTP handler is wrapped where it is defined; test/security/app-role.test.ts calls each one of the
 * function table without a principal, so one left out fails there.
 */
import type { HttpHandler } from '@azure/functions';
import { CLIENT_PRINCIPAL_HEADER, checkAppRole } from '../shared/security/client-principal';
import type { FunctionDeps } from './deps';
import { json } from './http';

export function withAppRole(deps: Pick<FunctionDeps, 'settings'>, handle: HttpHandler): HttpHandler {
  const role = deps.settings.requiredAppRole;
  if (role === undefined) return handle;
  return async function guardedByAppRole(request, context) {
    const check = checkAppRole(request.headers.get(CLIENT_PRINCIPAL_HEADER), role);
    return check.ok ? handle(request, context) : json(check.status, { error: { message: check.message } });
  };
}
