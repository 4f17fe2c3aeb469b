import { DndContext, KeyboardSensor, PointerSensor, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from "@dnd-kit/core";
import { Badge, Card, Group, Paper, ScrollArea, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../../lib/format";
import { notifyFailure } from "../../lib/notify";
import { changeStatus, isOverdue, STATUSES, useTaskActions, type Task, type TaskStatus } from "./queries";
import { TaskControls } from "./TaskControls";

/** Tasks by status; drag a card to another column (or focus it, space, arrows, space) to change its status. */
export function TaskBoard({ tasks, writer }: { tasks: Task[]; writer: boolean }) {
  const { t } = useTranslation("tasks");
  const actions = useTaskActions();
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }), useSensor(KeyboardSensor));
  const onDragEnd = (event: DragEndEvent) => {
    const task = tasks.find((x) => x.id === event.active.id);
    const status = event.over?.id as TaskStatus | undefined;
    if (task && status && status !== task.status) changeStatus(actions, task, status).catch(notifyFailure);
  };
  return (
    <DndContext sensors={sensors} onDragEnd={onDragEnd}>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        {STATUSES.map((status) => (
          <Column key={status} status={status} label={t(`common:taskStatus.${status}`)} tasks={tasks.filter((x) => x.status === status)} writer={writer} />
        ))}
      </SimpleGrid>
    </DndContext>
  );
}

function Column({ status, label, tasks, writer }: { status: TaskStatus; label: string; tasks: Task[]; writer: boolean }) {
  const { setNodeRef, isOver } = useDroppable({ id: status });
  return (
    <Paper ref={setNodeRef} withBorder p="sm" bg={isOver ? "indigo.0" : "gray.0"} mih={200} aria-label={label} role="region" data-testid={`task-column-${status}`}>
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h5">
          {label}
        </Title>
        <Badge variant="light">{tasks.length}</Badge>
      </Group>
      <ScrollArea.Autosize mah={600}>
        <Stack gap="xs">
          {tasks.map((task) => (
            <TaskCard key={task.id} task={task} writer={writer} />
          ))}
        </Stack>
      </ScrollArea.Autosize>
    </Paper>
  );
}

function TaskCard({ task, writer }: { task: Task; writer: boolean }) {
  const { t } = useTranslation("tasks");
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: task.id, disabled: !writer });
  const overdue = isOverdue(task);
  const style = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)`, zIndex: 10 } : undefined;
  return (
    <Card ref={setNodeRef} withBorder padding="xs" style={{ ...style, opacity: isDragging ? 0.7 : 1, borderColor: overdue ? "var(--mantine-color-red-6)" : undefined }} data-testid="task-card">
      <div {...listeners} {...attributes} aria-label={t("dragTask", { title: task.title })} style={{ cursor: writer ? "grab" : undefined }}>
        <Text size="sm" fw={500}>
          {task.title}
        </Text>
        <Group gap={6} mt={4}>
          <Badge size="xs" color={task.priority === "URGENT" ? "red" : task.priority === "HIGH" ? "orange" : "gray"}>
            {t(`common:priority.${task.priority}`)}
          </Badge>
          <Text size="xs" className={overdue ? "overdue" : undefined} c={overdue ? undefined : "dimmed"}>
            {overdue ? `${t("common:overdue")} · ` : ""}
            {formatDateTime(task.dueDate)}
          </Text>
        </Group>
      </div>
      <div style={{ marginTop: 6 }}>
        <TaskControls task={task} compact writer={writer} />
      </div>
    </Card>
  );
}
