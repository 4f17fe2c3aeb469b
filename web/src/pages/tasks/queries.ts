import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { components, paths } from "../../api/schema";
import { api, call } from "../../lib/api";

export type Task = components["schemas"]["TaskOut"];
export type TaskStatus = components["schemas"]["TaskStatus"];
export type TaskPriority = components["schemas"]["TaskPriority"];
export type TaskUpdate = components["schemas"]["TaskUpdate"];
export type TaskSort = NonNullable<NonNullable<paths["/api/tasks"]["get"]["parameters"]["query"]>["sort"]>;
export const STATUSES: TaskStatus[] = ["TODO", "IN_PROGRESS", "COMPLETED", "CANCELLED"];
export const PRIORITIES: TaskPriority[] = ["LOW", "MEDIUM", "HIGH", "URGENT"];

export function isOverdue(task: Pick<Task, "dueDate" | "status">, now = Date.now()): boolean {
  return (task.status === "TODO" || task.status === "IN_PROGRESS") && !!task.dueDate && new Date(task.dueDate).getTime() < now;
}

export interface TaskFilters {
  assigneeId?: string;
  status?: TaskStatus;
  priority?: TaskPriority;
  overdue?: boolean;
  /** the API's sort (`dueDate`, `-priority`, …), applied before limit/offset */
  sort?: TaskSort;
  limit: number;
  offset: number;
}

export function useTasks(filters: TaskFilters) {
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== false));
  return useQuery({
    queryKey: ["tasks", "list", query],
    queryFn: () => call(() => api.GET("/api/tasks", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

export function useTaskActions() {
  const client = useQueryClient();
  const settle = () => client.invalidateQueries({ queryKey: ["tasks"] });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: TaskUpdate }) =>
      call(() => api.PATCH("/api/tasks/{task_id}", { params: { path: { task_id: id } }, body })),
    onSettled: settle,
  });
  const complete = useMutation({
    mutationFn: (id: string) => call(() => api.POST("/api/tasks/{task_id}/complete", { params: { path: { task_id: id } } })),
    onSettled: settle,
  });
  return { update, complete };
}

/** A status change: COMPLETED goes through /complete (it records who and when), the others through PATCH. */
export function changeStatus(actions: ReturnType<typeof useTaskActions>, task: Task, status: TaskStatus) {
  if (status === task.status) return Promise.resolve(task);
  if (status === "COMPLETED") return actions.complete.mutateAsync(task.id);
  return actions.update.mutateAsync({ id: task.id, body: { status } });
}

/** `<input type="datetime-local">` value ⇄ ISO instant. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}
