import { Anchor, Badge, Card, Group, Loader, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useSession } from "../../lib/auth";
import { formatDateTime, formatNumber, formatRelative } from "../../lib/format";
import { PipelineBars } from "./PipelineBars";
import { useKeyCounts, useMyTasksDue, usePipeline, useRecentActivity } from "./queries";

export default function DashboardPage() {
  const { t } = useTranslation("dashboard");
  const session = useSession()!;
  const tasks = useMyTasksDue(session.user.id);
  const pipeline = usePipeline();
  const counts = useKeyCounts(session);
  const activity = useRecentActivity();

  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Text c="dimmed">{t("welcome", { name: session.user.name })}</Text>
      {counts.error ? <ErrorAlert error={counts.error} onRetry={() => void counts.refetch()} /> : null}
      <SimpleGrid cols={{ base: 2, md: 4 }} aria-label={t("counts")}>
        <Count label={t("customers")} value={counts.data?.customers} to="/customers" />
        <Count label={t("openTasks")} value={counts.data?.openTasks} to="/tasks" />
        <Count label={t("openDeals")} value={counts.data?.openDeals} to="/deals" />
        <Count label={t("pendingApprovals")} value={counts.data?.pendingApprovals} to="/approvals" />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder>
          <Title order={3} size="h4" mb="sm">
            {t("myTasks")}
          </Title>
          {tasks.error ? <ErrorAlert error={tasks.error} onRetry={() => void tasks.refetch()} /> : null}
          {tasks.isLoading && <Loader size="sm" />}
          <Table aria-label={t("myTasks")} data-testid="dashboard-tasks">
            <Table.Tbody>
              {(tasks.data?.overdue ?? []).map((task) => (
                <Table.Tr key={task.id}>
                  <Table.Td>{task.title}</Table.Td>
                  <Table.Td className="overdue">
                    {t("overdueSince", { when: formatRelative(task.dueDate) })}
                  </Table.Td>
                </Table.Tr>
              ))}
              {(tasks.data?.dueSoon ?? []).map((task) => (
                <Table.Tr key={task.id}>
                  <Table.Td>{task.title}</Table.Td>
                  <Table.Td>{t("due", { when: formatDateTime(task.dueDate) })}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {tasks.data && tasks.data.overdue.length + tasks.data.dueSoon.length === 0 && <Text c="dimmed">{t("nothingDue")}</Text>}
        </Card>
        <Card withBorder>
          <Group justify="space-between" mb="sm">
            <Title order={3} size="h4">
              {t("pipeline")}
            </Title>
            {pipeline.data && (
              <Text size="sm" c="dimmed">
                {t("dealsCount", { count: pipeline.data.total, formatted: formatNumber(pipeline.data.total) })}
              </Text>
            )}
          </Group>
          {pipeline.error ? <ErrorAlert error={pipeline.error} onRetry={() => void pipeline.refetch()} /> : null}
          {pipeline.data && <PipelineBars stages={pipeline.data.stages} currency={pipeline.data.currency} />}
        </Card>
      </SimpleGrid>
      <Card withBorder>
        <Title order={3} size="h4" mb="sm">
          {t("recent")}
        </Title>
        {activity.error ? <ErrorAlert error={activity.error} onRetry={() => void activity.refetch()} /> : null}
        <Stack gap={6} role="list" aria-label={t("recent")}>
          {(activity.data ?? []).map((a, i) => (
            <Group key={`${a.kind}-${a.link}-${i}`} role="listitem" gap="sm" wrap="nowrap">
              <Badge variant="light" w={90}>
                {t(`kinds.${a.kind}`)}
              </Badge>
              <Anchor component={Link} to={a.link} style={{ flex: 1 }}>
                {a.title}
              </Anchor>
              <Text size="xs" c="dimmed">
                {formatRelative(a.at)}
              </Text>
            </Group>
          ))}
        </Stack>
      </Card>
    </Stack>
  );
}

function Count({ label, value, to }: { label: string; value: number | undefined; to: string }) {
  return (
    <Card withBorder component={Link} to={to} style={{ textDecoration: "none" }}>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700}>
        {value === undefined ? "…" : formatNumber(value)}
      </Text>
    </Card>
  );
}
