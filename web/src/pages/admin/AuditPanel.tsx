import { Anchor, Button, Code, Group, Select, Stack, Table, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useListSort } from "../../components/SortHeader";
import { EmptyRow, ListFooter } from "../../components/ListParts";
import { formatDateTime, formatNumber } from "../../lib/format";
import { AUDIT_ACTIONS, useAudit, type AuditAction } from "./queries";

const PAGE_SIZE = 50;

/** ADMIN and COMPLIANCE: who did what to which account, newest first; filter by action, actor or target. */
export function AuditPanel() {
  const { t } = useTranslation("admin");
  const [action, setAction] = useState<AuditAction | undefined>();
  const [actorId, setActorId] = useState("");
  const [targetId, setTargetId] = useState("");
  const [page, setPage] = useState(1);
  const sort = useListSort(["at", "action"] as const, "-at", () => setPage(1));
  const [actor] = useDebouncedValue(actorId.trim(), 300);
  const [target] = useDebouncedValue(targetId.trim(), 300);
  const audit = useAudit({
    action,
    actorId: actor || undefined,
    targetId: target || undefined,
    sort: sort.param,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  const rows = audit.data?.items ?? [];
  const total = audit.data?.total ?? 0;
  const filter = (change: () => void) => {
    change();
    setPage(1);
  };

  return (
    <Stack>
      <Group align="flex-end" wrap="wrap">
        <Select
          label={t("action")}
          placeholder={t("anyAction")}
          clearable
          searchable
          value={action ?? null}
          onChange={(v) => filter(() => setAction((v as AuditAction | null) ?? undefined))}
          data={AUDIT_ACTIONS.map((a) => ({ value: a, label: t(`actions.${a}`) }))}
          w={240}
        />
        <TextInput label={t("actorId")} value={actorId} onChange={(e) => { const v = e.currentTarget.value; filter(() => setActorId(v)); }} w={300} />
        <TextInput label={t("targetId")} value={targetId} onChange={(e) => { const v = e.currentTarget.value; filter(() => setTargetId(v)); }} w={300} />
        {(action || actorId || targetId) && (
          <Button variant="subtle" onClick={() => filter(() => { setAction(undefined); setActorId(""); setTargetId(""); })}>
            {t("clearFilters")}
          </Button>
        )}
      </Group>
      {audit.error ? <ErrorAlert error={audit.error} onRetry={() => void audit.refetch()} /> : null}
      <Table.ScrollContainer minWidth={800}>
        <Table aria-label={t("audit")} striped aria-busy={audit.isFetching}>
          <Table.Thead>
            <Table.Tr>
              {sort.header("at", t("when"))}
              {sort.header("action", t("action"))}
              <Table.Th>{t("actor")}</Table.Th>
              <Table.Th>{t("target")}</Table.Th>
              <Table.Th>{t("ip")}</Table.Th>
              <Table.Th>{t("detail")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((a) => (
              <Table.Tr key={a.id} data-testid="audit-row">
                <Table.Td>{formatDateTime(a.at)}</Table.Td>
                <Table.Td>{t(`actions.${a.action}`, { defaultValue: a.action })}</Table.Td>
                <Table.Td>
                  {a.actorId ? (
                    <Anchor component="button" type="button" size="sm" onClick={() => filter(() => setActorId(a.actorId!))} aria-label={t("filterActor", { who: a.actorEmail ?? a.actorId })}>
                      {a.actorEmail ?? a.actorId}
                    </Anchor>
                  ) : (
                    (a.actorEmail ?? "—")
                  )}
                </Table.Td>
                <Table.Td>
                  {a.targetId ? (
                    <Anchor component="button" type="button" size="sm" onClick={() => filter(() => setTargetId(a.targetId!))} aria-label={t("filterTarget", { id: a.targetId })}>
                      <Code>{a.targetId.slice(0, 8)}</Code>
                    </Anchor>
                  ) : (
                    "—"
                  )}
                </Table.Td>
                <Table.Td>{a.ip ?? "—"}</Table.Td>
                <Table.Td>
                  {Object.keys(a.detail ?? {}).length ? <Code>{JSON.stringify(a.detail)}</Code> : "—"}
                </Table.Td>
              </Table.Tr>
            ))}
            {!audit.isLoading && !audit.error && rows.length === 0 && <EmptyRow colSpan={6}>{t("noAudit")}</EmptyRow>}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ListFooter count={t("auditCount", { count: total, formatted: formatNumber(total) })} total={total} pageSize={PAGE_SIZE} page={page} onPage={setPage} />
    </Stack>
  );
}
