import { Alert, Button, Code, CopyButton, Group, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconCheck, IconCopy } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useListSort } from "../../components/SortHeader";
import { EmptyRow, ListFooter } from "../../components/ListParts";
import { formatDateTime } from "../../lib/format";
import { showFieldErrors } from "../../lib/forms";
import { notifyFailure, notifySaved } from "../../lib/notify";
import type { Role } from "../../lib/session";
import { ROLES, useApiKeys, useCreateApiKey, useRevokeApiKey, type ApiKey, type ApiKeyCreated } from "./queries";

const PAGE_SIZE = 25;

/** ADMIN: keys for integrations. A new key's secret is shown once, with a copy button; the server keeps only a hash. */
export function ApiKeysPanel() {
  const { t } = useTranslation("admin");
  const [page, setPage] = useState(1);
  const sort = useListSort(["name", "createdAt", "lastUsedAt"] as const, "-createdAt", () => setPage(1));
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [error, setError] = useState<unknown>(null);
  const keys = useApiKeys({ sort: sort.param, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const form = useForm({
    initialValues: { name: "", role: "SALES" as Role },
    validate: { name: (v) => (v.trim() ? null : t("keyNameRequired")) },
  });
  const rows = keys.data?.items ?? [];

  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      setCreated(await create.mutateAsync({ name: values.name.trim(), role: values.role }));
      form.reset();
    } catch (e) {
      if (!showFieldErrors(form, e, ["name", "role"])) setError(e);
    }
  });

  const revokeKey = async (key: ApiKey) => {
    if (!window.confirm(t("confirmRevoke", { name: key.name }))) return;
    try {
      await revoke.mutateAsync(key.id);
      notifySaved(t("keyRevoked", { name: key.name }));
    } catch (e) {
      notifyFailure(e);
    }
  };

  return (
    <Stack>
      <form onSubmit={submit} noValidate aria-label={t("createKey")}>
        <Group align="flex-start">
          <TextInput label={t("keyName")} required {...form.getInputProps("name")} w={260} />
          <Select
            label={t("role")}
            allowDeselect={false}
            data={ROLES.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))}
            {...form.getInputProps("role")}
            w={170}
          />
          <Button type="submit" loading={form.submitting} mt={25}>
            {t("createKey")}
          </Button>
        </Group>
      </form>
      {error ? <ErrorAlert error={error} /> : null}
      {created && (
        <Alert color="green" title={t("keyCreated", { name: created.name })} withCloseButton closeButtonLabel={t("hideKey")} onClose={() => setCreated(null)}>
          <Stack gap="xs">
            <Text size="sm">{t("keyOnce")}</Text>
            <Group gap="xs" wrap="nowrap">
              <Code block data-testid="new-api-key" style={{ flex: 1, wordBreak: "break-all" }}>
                {created.key}
              </Code>
              <CopyButton value={created.key}>
                {({ copied, copy }) => (
                  <Button variant="light" color={copied ? "teal" : "blue"} leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />} onClick={copy}>
                    {copied ? t("copied") : t("copy")}
                  </Button>
                )}
              </CopyButton>
            </Group>
          </Stack>
        </Alert>
      )}
      {keys.error ? <ErrorAlert error={keys.error} onRetry={() => void keys.refetch()} /> : null}
      <Table.ScrollContainer minWidth={700}>
        <Table aria-label={t("apiKeys")} striped aria-busy={keys.isFetching}>
          <Table.Thead>
            <Table.Tr>
              {sort.header("name", t("keyName"))}
              <Table.Th>{t("role")}</Table.Th>
              <Table.Th>{t("prefix")}</Table.Th>
              {sort.header("createdAt", t("created"))}
              {sort.header("lastUsedAt", t("lastUsed"))}
              <Table.Th>{t("common:actions.label")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((k) => (
              <Table.Tr key={k.id} data-testid="api-key-row">
                <Table.Td>{k.name}</Table.Td>
                <Table.Td>{t(`common:roles.${k.role}`)}</Table.Td>
                <Table.Td>
                  <Code>{k.prefix}…</Code>
                </Table.Td>
                <Table.Td>{formatDateTime(k.createdAt)}</Table.Td>
                <Table.Td>{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : t("never")}</Table.Td>
                <Table.Td>
                  {k.revokedAt ? (
                    <Text size="sm" c="dimmed">
                      {t("revokedAt", { when: formatDateTime(k.revokedAt) })}
                    </Text>
                  ) : (
                    <Button size="compact-sm" color="red" variant="light" onClick={() => void revokeKey(k)} aria-label={t("revokeKey", { name: k.name })}>
                      {t("revoke")}
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
            {!keys.isLoading && !keys.error && rows.length === 0 && <EmptyRow colSpan={6}>{t("noKeys")}</EmptyRow>}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ListFooter total={keys.data?.total ?? 0} pageSize={PAGE_SIZE} page={page} onPage={setPage} />
    </Stack>
  );
}
