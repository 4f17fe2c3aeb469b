import { Stack, Tabs, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useSession } from "../../lib/auth";
import { ApiKeysPanel } from "./ApiKeysPanel";
import { AuditPanel } from "./AuditPanel";
import { UsersPanel } from "./UsersPanel";
import { useUrlState } from "../../lib/urlState";

/**
 * Administration: users and roles and API keys (ADMIN), the audit log (ADMIN and COMPLIANCE). The route's
 * role gate keeps everyone else out (a 403 page); COMPLIANCE sees the audit log only. The tab is in the URL.
 */
export default function AdminPage() {
  const { t } = useTranslation("admin");
  const admin = useSession()?.user.role === "ADMIN";
  const [params, update] = useUrlState();
  const tabs = admin ? ["users", "keys", "audit"] : ["audit"];
  const asked = params.get("tab") ?? "";
  const tab = tabs.includes(asked) ? asked : tabs[0];
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Tabs value={tab} onChange={(v) => update({ tab: v })} keepMounted={false}>
        <Tabs.List>
          {admin && <Tabs.Tab value="users">{t("users")}</Tabs.Tab>}
          {admin && <Tabs.Tab value="keys">{t("apiKeys")}</Tabs.Tab>}
          <Tabs.Tab value="audit">{t("audit")}</Tabs.Tab>
        </Tabs.List>
        {admin && (
          <Tabs.Panel value="users" pt="md">
            <UsersPanel />
          </Tabs.Panel>
        )}
        {admin && (
          <Tabs.Panel value="keys" pt="md">
            <ApiKeysPanel />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="audit" pt="md">
          <AuditPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
