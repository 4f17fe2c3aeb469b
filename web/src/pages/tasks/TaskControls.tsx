import { Button, Group, Select, TextInput } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { notifyFailure } from "../../lib/notify";
import { fromLocalInput, PRIORITIES, toLocalInput, useTaskActions, type Task, type TaskPriority } from "./queries";

/** Complete, reprioritise, reschedule: the same controls in the list and on the board's cards. */
export function TaskControls({ task, compact = false, writer }: { task: Task; compact?: boolean; writer: boolean }) {
  const { t } = useTranslation("tasks");
  const actions = useTaskActions();
  const open = task.status === "TODO" || task.status === "IN_PROGRESS";
  if (!writer) return null;
  const run = (p: Promise<unknown>) => p.catch(notifyFailure);
  return (
    <Group gap="xs" wrap={compact ? "wrap" : "nowrap"}>
      <Select
        size="xs"
        w={110}
        aria-label={t("priorityOf", { title: task.title })}
        data={PRIORITIES.map((p) => ({ value: p, label: t(`common:priority.${p}`) }))}
        value={task.priority}
        allowDeselect={false}
        disabled={!open}
        onChange={(v) => v && v !== task.priority && run(actions.update.mutateAsync({ id: task.id, body: { priority: v as TaskPriority } }))}
      />
      <TextInput
        size="xs"
        type="datetime-local"
        aria-label={t("dueOf", { title: task.title })}
        defaultValue={toLocalInput(task.dueDate)}
        key={task.dueDate ?? "none"}
        disabled={!open}
        onBlur={(e) => {
          const next = fromLocalInput(e.currentTarget.value);
          if (next !== task.dueDate && toLocalInput(next) !== toLocalInput(task.dueDate)) {
            void run(actions.update.mutateAsync({ id: task.id, body: { dueDate: next } }));
          }
        }}
      />
      {open && (
        <Button size="compact-sm" variant="light" color="green" loading={actions.complete.isPending} onClick={() => void run(actions.complete.mutateAsync(task.id))} aria-label={t("completeOf", { title: task.title })}>
          {t("complete")}
        </Button>
      )}
    </Group>
  );
}
