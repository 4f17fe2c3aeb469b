import { Anchor, Badge, Button, Card, Group, Loader, Modal, SimpleGrid, Stack, Table, Tabs, Text, Timeline, Title } from "@mantine/core";
import { IconArrowLeft, IconPencil, IconRestore, IconTrash } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useSession } from "../../lib/auth";
import { formatDate, formatDateTime, formatMoney } from "../../lib/format";
import { notifyFailure, notifySaved } from "../../lib/notify";
import { can, WRITERS } from "../../lib/roles";
import { CustomerForm } from "./CustomerForm";
import {
  useCustomer,
  useCustomerApprovals,
  useCustomerDeals,
  useCustomerMeetings,
  useCustomerTasks,
  useCustomerTimeline,
  useDeleteCustomer,
  useRestoreCustomer,
  useUpdateCustomer,
} from "./queries";
import { buildTimeline, fromActivity, type TimelineEntry } from "./timeline";

function isOverdue(due: string | null, status: string): boolean {
  return Boolean(due) && (status === "TODO" || status === "IN_PROGRESS") && new Date(due!).getTime() < Date.now();
}

export default function CustomerDetailPage() {
  const { customerId = "" } = useParams();
  const { t } = useTranslation("customers");
  const session = useSession();
  const writer = can(session?.user.role, WRITERS);
  const customer = useCustomer(customerId);
  const tasks = useCustomerTasks(customerId);
  const meetings = useCustomerMeetings(customerId);
  const deals = useCustomerDeals(customerId);
  const approvals = useCustomerApprovals(customerId);
  const activity = useCustomerTimeline(customerId);
  const update = useUpdateCustomer(customerId);
  const remove = useDeleteCustomer();
  const restore = useRestoreCustomer();
  const [editing, setEditing] = useState(false);
  const navigate = useNavigate();

  if (customer.isLoading) return <Loader aria-label={t("common:loading")} />;
  if (customer.error || !customer.data) return <ErrorAlert error={customer.error} onRetry={() => void customer.refetch()} />;
  const c = customer.data;
  // The server's record when it can be read (it shows others' changes and deletions too), else built here
  // (also while the record, which trails the services by a moment, has nothing yet).
  const timeline = activity.data?.items.length
    ? fromActivity(c, activity.data)
    : buildTimeline(c, tasks.data?.items, meetings.data?.items, deals.data?.items, approvals.data?.items);

  const timelineLabel = (entry: TimelineEntry) =>
    t(`timeline.${entry.kind}`, {
      defaultValue: entry.type ?? entry.kind, // an event type this screen does not name yet
      stage: entry.stage ? t(`common:stage.${entry.stage}`) : "",
      status: entry.status ? t(`common:approvalStatus.${entry.status}`, { defaultValue: entry.status }) : "",
    });

  const act = async (action: "delete" | "restore") => {
    try {
      if (action === "delete") {
        if (!window.confirm(t("confirmDelete", { name: c.name }))) return;
        await remove.mutateAsync(c.id);
        notifySaved(t("deleted", { name: c.name }));
        navigate("/customers"); // it is in the bin now ("Show deleted"), restorable from there
      } else {
        await restore.mutateAsync(c.id);
        notifySaved(t("restored", { name: c.name }));
      }
    } catch (e) {
      notifyFailure(e);
    }
  };

  return (
    <Stack>
      <Anchor component={Link} to="/customers" size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          {t("backToList")}
        </Group>
      </Anchor>
      <Group justify="space-between">
        <Group>
          <Title order={2}>{c.name}</Title>
          {c.deletedAt && <Badge color="red">{t("deletedBadge")}</Badge>}
        </Group>
        {writer && (
          <Group>
            {!c.deletedAt && (
              <Button variant="default" leftSection={<IconPencil size={16} />} onClick={() => setEditing(true)}>
                {t("common:actions.edit")}
              </Button>
            )}
            {c.deletedAt ? (
              <Button leftSection={<IconRestore size={16} />} onClick={() => void act("restore")}>
                {t("common:actions.restore")}
              </Button>
            ) : (
              <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => void act("delete")}>
                {t("common:actions.delete")}
              </Button>
            )}
          </Group>
        )}
      </Group>
      <Card withBorder>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Field label={t("fields.email")} value={c.email} />
          <Field label={t("fields.phone")} value={c.phone} />
          <Field label={t("fields.industry")} value={c.industry} />
          <Field label={t("fields.size")} value={c.size ? t(`sizes.${c.size}`) : null} />
          <Field label={t("fields.owner")} value={c.ownerId === session?.user.id ? t("you") : c.ownerId} />
          <Field label={t("fields.createdAt")} value={formatDateTime(c.createdAt)} />
        </SimpleGrid>
      </Card>
      <Tabs defaultValue="tasks" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="tasks">{t("tabs.tasks", { count: tasks.data?.total ?? 0 })}</Tabs.Tab>
          <Tabs.Tab value="meetings">{t("tabs.meetings", { count: meetings.data?.total ?? 0 })}</Tabs.Tab>
          <Tabs.Tab value="deals">{t("tabs.deals", { count: deals.data?.total ?? 0 })}</Tabs.Tab>
          <Tabs.Tab value="approvals">{t("tabs.approvals", { count: approvals.data?.total ?? 0 })}</Tabs.Tab>
          <Tabs.Tab value="timeline">{t("tabs.timeline")}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="tasks" pt="md">
          {tasks.error ? <ErrorAlert error={tasks.error} onRetry={() => void tasks.refetch()} /> : null}
          <Table aria-label={t("sections.tasks")} data-testid="customer-tasks">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("task.title")}</Table.Th>
                <Table.Th>{t("task.status")}</Table.Th>
                <Table.Th>{t("task.priority")}</Table.Th>
                <Table.Th>{t("task.due")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(tasks.data?.items ?? []).map((task) => (
                <Table.Tr key={task.id} data-testid="customer-task">
                  <Table.Td>{task.title}</Table.Td>
                  <Table.Td>
                    <Badge variant="light">{t(`common:taskStatus.${task.status}`)}</Badge>
                  </Table.Td>
                  <Table.Td>{t(`common:priority.${task.priority}`)}</Table.Td>
                  <Table.Td className={isOverdue(task.dueDate, task.status) ? "overdue" : undefined}>
                    {formatDateTime(task.dueDate)}
                    {isOverdue(task.dueDate, task.status) && ` · ${t("common:overdue")}`}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {tasks.data?.items.length === 0 && <Text c="dimmed">{t("none")}</Text>}
        </Tabs.Panel>
        <Tabs.Panel value="meetings" pt="md">
          <Table aria-label={t("sections.meetings")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("meeting.title")}</Table.Th>
                <Table.Th>{t("meeting.startsAt")}</Table.Th>
                <Table.Th>{t("meeting.status")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(meetings.data?.items ?? []).map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>{m.title}</Table.Td>
                  <Table.Td>{formatDateTime(m.startsAt)}</Table.Td>
                  <Table.Td>{t(`common:meetingStatus.${m.status}`)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {meetings.data?.items.length === 0 && <Text c="dimmed">{t("none")}</Text>}
        </Tabs.Panel>
        <Tabs.Panel value="deals" pt="md">
          <Table aria-label={t("sections.deals")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("deal.name")}</Table.Th>
                <Table.Th>{t("deal.stage")}</Table.Th>
                <Table.Th>{t("deal.amount")}</Table.Th>
                <Table.Th>{t("deal.expectedClose")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(deals.data?.items ?? []).map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td>{d.name}</Table.Td>
                  <Table.Td>{t(`common:stage.${d.stage}`)}</Table.Td>
                  <Table.Td>{formatMoney(d.amount, d.currency)}</Table.Td>
                  <Table.Td>{formatDate(d.expectedCloseDate)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {deals.data?.items.length === 0 && <Text c="dimmed">{t("none")}</Text>}
        </Tabs.Panel>
        <Tabs.Panel value="approvals" pt="md">
          <Table aria-label={t("sections.approvals")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("approval.title")}</Table.Th>
                <Table.Th>{t("approval.status")}</Table.Th>
                <Table.Th>{t("approval.requested")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(approvals.data?.items ?? []).map((a) => (
                <Table.Tr key={a.id}>
                  <Table.Td>{a.title}</Table.Td>
                  <Table.Td>{t(`common:approvalStatus.${a.status}`)}</Table.Td>
                  <Table.Td>{formatDateTime(a.createdAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {approvals.data?.items.length === 0 && <Text c="dimmed">{t("none")}</Text>}
        </Tabs.Panel>
        <Tabs.Panel value="timeline" pt="md">
          {activity.isLoading && <Loader size="sm" aria-label={t("common:loading")} />}
          {activity.error ? (
            <Text size="sm" c="dimmed" mb="sm">
              {t("timeline.fromLists")}
            </Text>
          ) : null}
          <Timeline bulletSize={14} lineWidth={2} aria-label={t("sections.timeline")} data-testid="customer-timeline">
            {timeline.map((entry, i) => (
              <Timeline.Item key={`${entry.kind}-${entry.at}-${i}`} title={timelineLabel(entry)}>
                <Text size="sm">{entry.title}</Text>
                <Text size="xs" c="dimmed">
                  {formatDateTime(entry.at)}
                  {entry.actorId && entry.actorId === session?.user.id && ` · ${t("timeline.byYou")}`}
                </Text>
              </Timeline.Item>
            ))}
          </Timeline>
        </Tabs.Panel>
      </Tabs>
      <Modal opened={editing} onClose={() => setEditing(false)} title={t("editTitle")}>
        <CustomerForm
          customer={c}
          onCancel={() => setEditing(false)}
          onSubmit={async (values) => {
            await update.mutateAsync(values);
            setEditing(false);
            notifySaved(t("saved", { name: values.name }));
          }}
        />
      </Modal>
    </Stack>
  );
}

function Field({ label, value }: { label: string; value: string | null | undefined }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text>{value || "—"}</Text>
    </div>
  );
}
