// What each role may do, mirroring src/crm/contracts/roles.py; the server stays the authority, this only
// hides what a role cannot use.
import type { Role } from "./session";

export const SEES_ALL: readonly Role[] = ["ADMIN", "MANAGER", "COMPLIANCE"];
export const WRITERS: readonly Role[] = ["ADMIN", "MANAGER", "SALES", "USER"];
export const APPROVERS: readonly Role[] = ["ADMIN", "MANAGER", "COMPLIANCE"];
export const REPORT_READERS: readonly Role[] = ["ADMIN", "MANAGER", "COMPLIANCE"];
export const ADMIN_AREA: readonly Role[] = ["ADMIN", "COMPLIANCE"]; // COMPLIANCE: the audit log only

export function can(role: Role | undefined, allowed: readonly Role[]): boolean {
  return role !== undefined && allowed.includes(role);
}
