import { Alert, Button, Code, Group, Pagination, Select, Stack, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { components } from "../../api/schema";
import { ErrorAlert } from "../../components/ErrorAlert";
import { api, call } from "../../lib/api";
import { useSession } from "../../lib/auth";
import { formatDateTime } from "../../lib/format";
import { showFieldErrors } from "../../lib/forms";
import { notifyFailure, notifySaved } from "../../lib/notify";
import type { Role } from "../../lib/session";

const ROLES: Role[] = ["ADMIN", "MANAGER", "SALES", "COMPLIANCE", "USER"];
const PAGE = 25;

/** Administration: users and roles, API keys (ADMIN), the audit log (ADMIN and COMPLIANCE). */
export default function AdminPage() {
  const { t } = useTranslation("admin");
  const role = useSession()?.user.role;
  const admin = role === "ADMIN";
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Tabs defaultValue={admin ? "users" : "audit"} keepMounted={false}>
        <Tabs.List>
          {admin && <Tabs.Tab value="users">{t("users")}</Tabs.Tab>}
          {admin && <Tabs.Tab value="keys">{t("apiKeys")}</Tabs.Tab>}
          <Tabs.Tab value="audit">{t("audit")}</Tabs.Tab>
        </Tabs.List>
        {admin && (
          <Tabs.Panel value="users" pt="md">
            <Users />
          </Tabs.Panel>
        )}
        {admin && (
          <Tabs.Panel value="keys" pt="md">
            <ApiKeys />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="audit" pt="md">
          <Audit />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function Users() {
  const { t } = useTranslation("admin");
  const [page, setPage] = useState(1);
  const [q, setQ] = useState("");
  const client = useQueryClient();
  const me = useSession()?.user.id;
  const users = useQuery({
    queryKey: ["users", page, q],
    queryFn: () => call(() => api.GET("/api/auth/users", { params: { query: { limit: PAGE, offset: (page - 1) * PAGE, ...(q ? { q } : {}) } } })),
    placeholderData: keepPreviousData,
  });
  const changeRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) =>
      call(() => api.PATCH("/api/auth/users/{user_id}", { params: { path: { user_id: id } }, body: { role } })),
    onSuccess: (user) => notifySaved(t("roleChanged", { name: user.name, role: user.role })),
    onError: notifyFailure,
    onSettled: () => client.invalidateQueries({ queryKey: ["users"] }),
  });
  return (
    <Stack>
      <TextInput label={t("search")} value={q} onChange={(e) => { setQ(e.currentTarget.value); setPage(1); }} w={300} />
      {users.error ? <ErrorAlert error={users.error} onRetry={() => void users.refetch()} /> : null}
      <Table aria-label={t("users")} striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("name")}</Table.Th>
            <Table.Th>{t("email")}</Table.Th>
            <Table.Th>{t("role")}</Table.Th>
            <Table.Th>{t("created")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(users.data?.items ?? []).map((u) => (
            <Table.Tr key={u.id}>
              <Table.Td>{u.name}</Table.Td>
              <Table.Td>{u.email}</Table.Td>
              <Table.Td>
                <Select
                  aria-label={t("roleOf", { name: u.name })}
                  data={ROLES.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))}
                  value={u.role}
                  disabled={u.id === me}
                  allowDeselect={false}
                  onChange={(value) => value && value !== u.role && changeRole.mutate({ id: u.id, role: value as Role })}
                  w={170}
                />
              </Table.Td>
              <Table.Td>{formatDateTime(u.createdAt)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Pagination total={Math.max(1, Math.ceil((users.data?.total ?? 0) / PAGE))} value={page} onChange={setPage} />
    </Stack>
  );
}

function ApiKeys() {
  const { t } = useTranslation("admin");
  const client = useQueryClient();
  const [created, setCreated] = useState<components["schemas"]["ApiKeyCreated"] | null>(null);
  const keys = useQuery({
    queryKey: ["users", "api-keys"],
    queryFn: () => call(() => api.GET("/api/auth/api-keys", { params: { query: { limit: 100 } } })),
  });
  const form = useForm({ initialValues: { name: "", role: "SALES" as Role } });
  const revoke = useMutation({
    mutationFn: (id: string) => call(() => api.DELETE("/api/auth/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onError: notifyFailure,
    onSettled: () => client.invalidateQueries({ queryKey: ["users", "api-keys"] }),
  });
  const submit = form.onSubmit(async (values) => {
    try {
      setCreated(await call(() => api.POST("/api/auth/api-keys", { body: values })));
      form.reset();
      void client.invalidateQueries({ queryKey: ["users", "api-keys"] });
    } catch (e) {
      if (!showFieldErrors(form, e, ["name", "role"])) notifyFailure(e);
    }
  });
  return (
    <Stack>
      <form onSubmit={submit} noValidate>
        <Group align="flex-end">
          <TextInput label={t("keyName")} required {...form.getInputProps("name")} />
          <Select label={t("role")} data={ROLES.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))} allowDeselect={false} {...form.getInputProps("role")} />
          <Button type="submit" loading={form.submitting}>
            {t("createKey")}
          </Button>
        </Group>
      </form>
      {created && (
        <Alert color="green" title={t("keyCreated")} withCloseButton onClose={() => setCreated(null)}>
          <Text size="sm">{t("keyOnce")}</Text>
          <Code block>{created.key}</Code>
        </Alert>
      )}
      {keys.error ? <ErrorAlert error={keys.error} onRetry={() => void keys.refetch()} /> : null}
      <Table aria-label={t("apiKeys")}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("keyName")}</Table.Th>
            <Table.Th>{t("role")}</Table.Th>
            <Table.Th>{t("prefix")}</Table.Th>
            <Table.Th>{t("lastUsed")}</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(keys.data?.items ?? []).map((k) => (
            <Table.Tr key={k.id}>
              <Table.Td>{k.name}</Table.Td>
              <Table.Td>{t(`common:roles.${k.role}`)}</Table.Td>
              <Table.Td>
                <Code>{k.prefix}</Code>
              </Table.Td>
              <Table.Td>{formatDateTime(k.lastUsedAt)}</Table.Td>
              <Table.Td>
                {k.revokedAt ? (
                  <Text size="sm" c="dimmed">{t("revoked")}</Text>
                ) : (
                  <Button size="compact-sm" color="red" variant="light" onClick={() => revoke.mutate(k.id)} aria-label={t("revokeKey", { name: k.name })}>
                    {t("revoke")}
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

function Audit() {
  const { t } = useTranslation("admin");
  const [page, setPage] = useState(1);
  const audit = useQuery({
    queryKey: ["users", "audit", page],
    queryFn: () => call(() => api.GET("/api/auth/audit", { params: { query: { limit: PAGE, offset: (page - 1) * PAGE } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      {audit.error ? <ErrorAlert error={audit.error} onRetry={() => void audit.refetch()} /> : null}
      <Table aria-label={t("audit")} striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("when")}</Table.Th>
            <Table.Th>{t("action")}</Table.Th>
            <Table.Th>{t("actor")}</Table.Th>
            <Table.Th>{t("ip")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(audit.data?.items ?? []).map((a) => (
            <Table.Tr key={a.id}>
              <Table.Td>{formatDateTime(a.at)}</Table.Td>
              <Table.Td>
                <Code>{a.action}</Code>
              </Table.Td>
              <Table.Td>{a.actorEmail ?? a.actorId ?? "—"}</Table.Td>
              <Table.Td>{a.ip ?? "—"}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Pagination total={Math.max(1, Math.ceil((audit.data?.total ?? 0) / PAGE))} value={page} onChange={setPage} />
    </Stack>
  );
}
