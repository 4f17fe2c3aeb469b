// The dashboard's reads. Every key starts with a resource prefix (tasks, opportunities, ...) or "dashboard",
// so the live stream's invalidations refresh it.
import { useQuery } from "@tanstack/react-query";
import { api, call } from "../../lib/api";
import type { components } from "../../api/schema";
import { can, APPROVERS } from "../../lib/roles";
import type { Session } from "../../lib/session";

type S = components["schemas"];
export type Stage = S["Stage"];
export const STAGES: Stage[] = ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"];
const OPEN_TASK = (t: S["TaskOut"]) => t.status === "TODO" || t.status === "IN_PROGRESS";

export function useMyTasksDue(userId: string) {
  return useQuery({
    queryKey: ["tasks", "dashboard", userId],
    queryFn: async () => {
      const soon = new Date(Date.now() + 24 * 3600_000).toISOString();
      const [overdue, dueSoon] = await Promise.all([
        call(() => api.GET("/api/tasks", { params: { query: { assigneeId: userId, overdue: true, limit: 20 } } })),
        call(() => api.GET("/api/tasks", { params: { query: { assigneeId: userId, dueBefore: soon, limit: 50 } } })),
      ]);
      const overdueIds = new Set(overdue.items.map((t) => t.id));
      return {
        overdue: overdue.items,
        overdueTotal: overdue.total,
        dueSoon: dueSoon.items.filter((t) => OPEN_TASK(t) && !overdueIds.has(t.id)),
      };
    },
  });
}

/** Pipeline value by stage, from the deals the caller may see (first 500). */
export function usePipeline() {
  return useQuery({
    queryKey: ["opportunities", "dashboard"],
    queryFn: async () => {
      const page = await call(() => api.GET("/api/opportunities", { params: { query: { limit: 500 } } }));
      const byStage = new Map<Stage, { stage: Stage; value: number; count: number }>();
      for (const stage of STAGES) byStage.set(stage, { stage, value: 0, count: 0 });
      const currencies = new Set<string>();
      for (const deal of page.items) {
        const row = byStage.get(deal.stage)!;
        row.value += Number(deal.amount);
        row.count += 1;
        currencies.add(deal.currency);
      }
      return { stages: [...byStage.values()], total: page.total, currency: [...currencies][0] ?? "JPY", deals: page.items };
    },
  });
}

export interface Counts {
  customers: number;
  openTasks: number;
  openDeals: number;
  pendingApprovals: number;
}

export function useKeyCounts(session: Session) {
  return useQuery({
    queryKey: ["dashboard", "counts", session.user.id],
    queryFn: async (): Promise<Counts> => {
      const approver = can(session.user.role, APPROVERS);
      const [customers, todo, doing, deals, won, lost, approvals] = await Promise.all([
        call(() => api.GET("/api/customers", { params: { query: { limit: 1 } } })),
        call(() => api.GET("/api/tasks", { params: { query: { status: "TODO", limit: 1 } } })),
        call(() => api.GET("/api/tasks", { params: { query: { status: "IN_PROGRESS", limit: 1 } } })),
        call(() => api.GET("/api/opportunities", { params: { query: { limit: 1 } } })),
        call(() => api.GET("/api/opportunities", { params: { query: { stage: "WON", limit: 1 } } })),
        call(() => api.GET("/api/opportunities", { params: { query: { stage: "LOST", limit: 1 } } })),
        approver
          ? call(() => api.GET("/api/approvals/pending", { params: { query: { limit: 1 } } }))
          : call(() => api.GET("/api/approvals", { params: { query: { status: "PENDING", limit: 1 } } })),
      ]);
      return {
        customers: customers.total,
        openTasks: todo.total + doing.total,
        openDeals: deals.total - won.total - lost.total,
        pendingApprovals: approvals.total,
      };
    },
  });
}

export interface Activity {
  at: string;
  kind: "customer" | "task" | "meeting" | "deal";
  title: string;
  link: string;
}

/** The most recently changed customers, tasks, meetings and deals: one request per list, newest first. */
export function useRecentActivity() {
  return useQuery({
    queryKey: ["dashboard", "activity"],
    queryFn: async (): Promise<Activity[]> => {
      const query = { sort: "-updatedAt", limit: 8 } as const;
      const [customers, tasks, meetings, deals] = await Promise.all([
        call(() => api.GET("/api/customers", { params: { query } })),
        call(() => api.GET("/api/tasks", { params: { query } })),
        call(() => api.GET("/api/meetings", { params: { query } })),
        call(() => api.GET("/api/opportunities", { params: { query } })),
      ]);
      const items: Activity[] = [
        ...customers.items.map((c) => ({ at: c.updatedAt, kind: "customer" as const, title: c.name, link: `/customers/${c.id}` })),
        ...tasks.items.map((t) => ({ at: t.updatedAt, kind: "task" as const, title: t.title, link: t.customerId ? `/customers/${t.customerId}` : "/tasks" })),
        ...meetings.items.map((m) => ({ at: m.updatedAt, kind: "meeting" as const, title: m.title, link: `/customers/${m.customerId}` })),
        ...deals.items.map((d) => ({ at: d.updatedAt, kind: "deal" as const, title: d.name, link: `/customers/${d.customerId}` })),
      ];
      return items.sort((a, b) => b.at.localeCompare(a.at)).slice(0, 12);
    },
  });
}
