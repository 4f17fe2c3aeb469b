import { Alert } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useSession } from "../lib/auth";
import { can } from "../lib/roles";
import type { Role } from "../lib/session";

/** A screen a role may not use says so (the server would answer 403 anyway). */
export function RoleGate({ roles, children }: { roles?: readonly Role[]; children: ReactNode }) {
  const session = useSession();
  const { t } = useTranslation();
  if (roles && !can(session?.user.role, roles)) {
    return (
      <Alert color="orange" title={t("errors.forbiddenTitle")} role="alert">
        {t("errors.forbiddenScreen", { role: session?.user.role, roles: roles.join(", ") })}
      </Alert>
    );
  }
  return <>{children}</>;
}
