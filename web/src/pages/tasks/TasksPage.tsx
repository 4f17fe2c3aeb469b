import { Anchor, Badge, Group, Pagination, SegmentedControl, Select, Stack, Switch, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useUrlState } from "../../lib/urlState";
import { ErrorAlert } from "../../components/ErrorAlert";
import { SortHeader } from "../../components/SortHeader";
import { useSession } from "../../lib/auth";
import { formatDateTime } from "../../lib/format";
import { can, SEES_ALL, WRITERS } from "../../lib/roles";
import { parseSort, sortParam, type Sort } from "../../lib/sort";
import { isOverdue, PRIORITIES, STATUSES, useTasks, type TaskPriority, type TaskStatus } from "./queries";
import { TaskBoard } from "./TaskBoard";
import { TaskControls } from "./TaskControls";

const PAGE = 25;
const SORTABLE = ["status", "dueDate", "priority"] as const;
type SortField = (typeof SORTABLE)[number];

export default function TasksPage() {
  const { t } = useTranslation("tasks");
  const session = useSession()!;
  const writer = can(session.user.role, WRITERS);
  const [view, setView] = useState<"list" | "board">("list");
  const [mine, setMine] = useState(true);
  const [status, setStatus] = useState<TaskStatus | undefined>();
  const [priority, setPriority] = useState<TaskPriority | undefined>();
  const [overdue, setOverdue] = useState(false);
  const [page, setPage] = useState(1);
  // Sorted by the API before it pages, kept in the URL (`?sort=-priority`). Without one the API's own order
  // (due date, then most urgent) applies, which the Due header shows as ascending.
  const [params, update] = useUrlState();
  const chosen = params.get("sort");
  const sort = parseSort(chosen, SORTABLE, "dueDate");
  const onSort = (next: Sort<SortField>) => {
    update({ sort: sortParam(next) });
    setPage(1);
  };
  const board = view === "board";
  const tasks = useTasks({
    assigneeId: mine || !can(session.user.role, SEES_ALL) ? session.user.id : undefined,
    status: board ? undefined : status,
    priority,
    overdue,
    sort: board || !chosen ? undefined : sortParam(sort),
    limit: board ? 200 : PAGE,
    offset: board ? 0 : (page - 1) * PAGE,
  });
  const items = tasks.data?.items ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("title")}</Title>
        <SegmentedControl
          aria-label={t("view")}
          value={view}
          onChange={(v) => setView(v as "list" | "board")}
          data={[
            { value: "list", label: t("list") },
            { value: "board", label: t("board") },
          ]}
        />
      </Group>
      <Group align="flex-end">
        {can(session.user.role, SEES_ALL) && <Switch label={t("onlyMine")} checked={mine} onChange={(e) => setMine(e.currentTarget.checked)} mb={8} />}
        {!board && (
          <Select label={t("status")} clearable w={160} value={status ?? null} onChange={(v) => { setStatus((v as TaskStatus) ?? undefined); setPage(1); }} data={STATUSES.map((s) => ({ value: s, label: t(`common:taskStatus.${s}`) }))} />
        )}
        <Select label={t("priority")} clearable w={140} value={priority ?? null} onChange={(v) => { setPriority((v as TaskPriority) ?? undefined); setPage(1); }} data={PRIORITIES.map((p) => ({ value: p, label: t(`common:priority.${p}`) }))} />
        <Switch label={t("overdueOnly")} checked={overdue} onChange={(e) => { setOverdue(e.currentTarget.checked); setPage(1); }} mb={8} />
      </Group>
      {tasks.error ? <ErrorAlert error={tasks.error} onRetry={() => void tasks.refetch()} /> : null}
      {board ? (
        <TaskBoard tasks={items} writer={writer} />
      ) : (
        <>
          <Table.ScrollContainer minWidth={800}>
            <Table aria-label={t("title")} data-testid="task-list">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("task")}</Table.Th>
                  <SortHeader field="status" sort={sort} onSort={onSort} w={140}>
                    {t("status")}
                  </SortHeader>
                  <SortHeader field="dueDate" sort={sort} onSort={onSort} w={150}>
                    {t("due")}
                  </SortHeader>
                  <SortHeader field="priority" sort={sort} onSort={onSort}>
                    {t("priority")}
                  </SortHeader>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((task) => {
                  const late = isOverdue(task);
                  return (
                    <Table.Tr key={task.id} data-testid="task-row" data-overdue={late || undefined} bg={late ? "red.0" : undefined}>
                      <Table.Td>
                        <Text size="sm" fw={500}>
                          {task.title}
                        </Text>
                        {task.customerId && (
                          <Anchor component={Link} to={`/customers/${task.customerId}`} size="xs">
                            {t("customer")}
                          </Anchor>
                        )}
                        {task.kind !== "manual" && (
                          <Badge ml="xs" size="xs" variant="outline">
                            {t(`kinds.${task.kind}`)}
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Badge variant="light" color={task.status === "COMPLETED" ? "green" : task.status === "CANCELLED" ? "gray" : "indigo"}>
                          {t(`common:taskStatus.${task.status}`)}
                        </Badge>
                      </Table.Td>
                      <Table.Td className={late ? "overdue" : undefined}>
                        {late && `${t("common:overdue")} · `}
                        {formatDateTime(task.dueDate)}
                      </Table.Td>
                      <Table.Td>{writer ? <TaskControls task={task} writer={writer} /> : t(`common:priority.${task.priority}`)}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {items.length === 0 && !tasks.isLoading && <Text c="dimmed">{t("empty")}</Text>}
          <Pagination total={Math.max(1, Math.ceil((tasks.data?.total ?? 0) / PAGE))} value={page} onChange={setPage} />
        </>
      )}
    </Stack>
  );
}
