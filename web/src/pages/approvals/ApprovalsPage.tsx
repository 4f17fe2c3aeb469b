import { Badge, Button, Group, Modal, Stack, Table, Tabs, Text, Textarea, Title } from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { components } from "../../api/schema";
import { ErrorAlert } from "../../components/ErrorAlert";
import { SortHeader } from "../../components/SortHeader";
import { api, call } from "../../lib/api";
import { useSession } from "../../lib/auth";
import { formatDateTime } from "../../lib/format";
import { notifyFailure, notifySaved } from "../../lib/notify";
import { APPROVERS, can } from "../../lib/roles";
import { parseSort, sortParam } from "../../lib/sort";
import { useUrlState } from "../../lib/urlState";

type Approval = components["schemas"]["ApprovalOut"];

/** The approver's inbox (approve / reject with a comment) and the caller's own requests (recall). */
export default function ApprovalsPage() {
  const { t } = useTranslation("approvals");
  const session = useSession()!;
  const approver = can(session.user.role, APPROVERS);
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Tabs defaultValue={approver ? "inbox" : "mine"} keepMounted={false}>
        <Tabs.List>
          {approver && <Tabs.Tab value="inbox">{t("inbox")}</Tabs.Tab>}
          <Tabs.Tab value="mine">{approver ? t("all") : t("mine")}</Tabs.Tab>
        </Tabs.List>
        {approver && (
          <Tabs.Panel value="inbox" pt="md">
            <Inbox />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="mine" pt="md">
          <Requests userId={session.user.id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function useDecide() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, approve, comment }: { id: string; approve: boolean; comment: string }) => {
      const body = comment ? { comment } : undefined;
      return approve
        ? call(() => api.POST("/api/approvals/{approval_id}/approve", { params: { path: { approval_id: id } }, body }))
        : call(() => api.POST("/api/approvals/{approval_id}/reject", { params: { path: { approval_id: id } }, body }));
    },
    onSettled: () => client.invalidateQueries({ queryKey: ["approvals"] }),
  });
}

function Inbox() {
  const { t } = useTranslation("approvals");
  // Newest first (the API's order) unless the approver asks for the oldest first: `?sort=createdAt`.
  const [params, update] = useUrlState();
  const chosen = params.get("sort");
  const sort = parseSort(chosen, ["createdAt"] as const, "-createdAt");
  const query = chosen ? { limit: 100, sort: sortParam(sort) } : { limit: 100 };
  const pending = useQuery({
    queryKey: ["approvals", "pending", query],
    queryFn: () => call(() => api.GET("/api/approvals/pending", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const [deciding, setDeciding] = useState<{ approval: Approval; approve: boolean } | null>(null);
  return (
    <Stack>
      {pending.error ? <ErrorAlert error={pending.error} onRetry={() => void pending.refetch()} /> : null}
      <Table aria-label={t("inbox")} data-testid="approval-inbox">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("what")}</Table.Th>
            <Table.Th>{t("reason")}</Table.Th>
            <SortHeader field="createdAt" sort={sort} onSort={(next) => update({ sort: sortParam(next) })}>
              {t("requested")}
            </SortHeader>
            <Table.Th>{t("decide")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(pending.data?.items ?? []).map((a) => (
            <Table.Tr key={a.id} data-testid="pending-approval">
              <Table.Td>{a.title}</Table.Td>
              <Table.Td>{a.reason ?? "—"}</Table.Td>
              <Table.Td>{formatDateTime(a.createdAt)}</Table.Td>
              <Table.Td>
                <Group gap="xs">
                  <Button size="compact-sm" color="green" onClick={() => setDeciding({ approval: a, approve: true })} aria-label={t("approveOf", { title: a.title })}>
                    {t("approve")}
                  </Button>
                  <Button size="compact-sm" color="red" variant="light" onClick={() => setDeciding({ approval: a, approve: false })} aria-label={t("rejectOf", { title: a.title })}>
                    {t("reject")}
                  </Button>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {pending.data?.items.length === 0 && <Text c="dimmed">{t("inboxEmpty")}</Text>}
      <Modal opened={deciding !== null} onClose={() => setDeciding(null)} title={deciding?.approve ? t("approveTitle") : t("rejectTitle")}>
        {deciding && <DecisionForm {...deciding} onDone={() => setDeciding(null)} />}
      </Modal>
    </Stack>
  );
}

function DecisionForm({ approval, approve, onDone }: { approval: Approval; approve: boolean; onDone: () => void }) {
  const { t } = useTranslation("approvals");
  const decide = useDecide();
  const [comment, setComment] = useState("");
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await decide.mutateAsync({ id: approval.id, approve, comment });
          notifySaved(approve ? t("approved", { title: approval.title }) : t("rejected", { title: approval.title }));
          onDone();
        } catch (err) {
          setError(err); // the comment stays as typed
        }
      }}
    >
      <Stack>
        <Text fw={500}>{approval.title}</Text>
        <Textarea label={t("comment")} autosize minRows={2} value={comment} onChange={(e) => setComment(e.currentTarget.value)} data-autofocus />
        {error ? <ErrorAlert error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            {t("common:actions.cancel")}
          </Button>
          <Button type="submit" color={approve ? "green" : "red"} loading={decide.isPending}>
            {approve ? t("approve") : t("reject")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Requests({ userId }: { userId: string }) {
  const { t } = useTranslation("approvals");
  const client = useQueryClient();
  const list = useQuery({
    queryKey: ["approvals", "list"],
    queryFn: () => call(() => api.GET("/api/approvals", { params: { query: { limit: 100 } } })),
  });
  const recall = useMutation({
    mutationFn: (id: string) => call(() => api.POST("/api/approvals/{approval_id}/recall", { params: { path: { approval_id: id } } })),
    onSuccess: (a) => notifySaved(t("recalled", { title: a.title })),
    onError: notifyFailure,
    onSettled: () => client.invalidateQueries({ queryKey: ["approvals"] }),
  });
  const color = { PENDING: "yellow", APPROVED: "green", REJECTED: "red", RECALLED: "gray", CANCELLED: "gray" } as const;
  return (
    <Stack>
      {list.error ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      <Table aria-label={t("mine")} data-testid="approval-requests">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("what")}</Table.Th>
            <Table.Th>{t("status")}</Table.Th>
            <Table.Th>{t("comment")}</Table.Th>
            <Table.Th>{t("requested")}</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(list.data?.items ?? []).map((a) => (
            <Table.Tr key={a.id} data-testid="approval-request">
              <Table.Td>{a.title}</Table.Td>
              <Table.Td>
                <Badge color={color[a.status]} variant="light">
                  {t(`common:approvalStatus.${a.status}`)}
                </Badge>
              </Table.Td>
              <Table.Td>{a.comment ?? "—"}</Table.Td>
              <Table.Td>{formatDateTime(a.createdAt)}</Table.Td>
              <Table.Td>
                {a.status === "PENDING" && a.requesterId === userId && (
                  <Button size="compact-sm" variant="light" onClick={() => recall.mutate(a.id)} aria-label={t("recallOf", { title: a.title })}>
                    {t("recall")}
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {list.data?.items.length === 0 && <Text c="dimmed">{t("none")}</Text>}
    </Stack>
  );
}
