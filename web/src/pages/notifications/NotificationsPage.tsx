import { Badge, Button, Group, Pagination, Stack, Switch, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useMarkAllRead, useMarkRead, useNotificationList } from "../../components/notificationQueries";
import { formatDateTime } from "../../lib/format";

const PAGE_SIZE = 20;

export default function NotificationsPage() {
  const { t } = useTranslation();
  const [page, setPage] = useState(1);
  const [unreadOnly, setUnreadOnly] = useState(false);
  const list = useNotificationList({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, ...(unreadOnly ? { unread: true } : {}) });
  const markRead = useMarkRead();
  const markAll = useMarkAllRead();
  const total = list.data?.total ?? 0;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("notifications.title")}</Title>
        <Group>
          <Switch label={t("notifications.unreadOnly")} checked={unreadOnly} onChange={(e) => { setUnreadOnly(e.currentTarget.checked); setPage(1); }} />
          <Button variant="light" onClick={() => markAll.mutate()} loading={markAll.isPending}>
            {t("notifications.markAllRead")}
          </Button>
        </Group>
      </Group>
      {list.error ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      <Table aria-label={t("notifications.title")}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("notifications.what")}</Table.Th>
            <Table.Th>{t("notifications.kind")}</Table.Th>
            <Table.Th>{t("notifications.when")}</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(list.data?.items ?? []).map((n) => (
            <Table.Tr key={n.id} data-testid="notification-row" fw={n.read ? undefined : 600}>
              <Table.Td>{n.title}</Table.Td>
              <Table.Td>
                <Badge variant="light">{n.kind}</Badge>
              </Table.Td>
              <Table.Td>{formatDateTime(n.createdAt)}</Table.Td>
              <Table.Td>
                {n.read ? (
                  <Text size="xs" c="dimmed">{t("notifications.read")}</Text>
                ) : (
                  <Button size="compact-xs" variant="light" onClick={() => markRead.mutate(n.id)} aria-label={t("notifications.markReadOf", { title: n.title })}>
                    {t("notifications.markRead")}
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {total === 0 && !list.isLoading && <Text c="dimmed">{t("notifications.none")}</Text>}
      <Pagination total={Math.max(1, Math.ceil(total / PAGE_SIZE))} value={page} onChange={setPage} />
    </Stack>
  );
}
