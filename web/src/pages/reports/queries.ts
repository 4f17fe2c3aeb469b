// Server state of the reports screen (keys start with "reports"). The figures are the analytics read models'.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { components } from "../../api/schema";
import { api, call } from "../../lib/api";

export type SalesSummary = components["schemas"]["SalesSummary"];
export type CustomerReport = components["schemas"]["CustomerReport"];
export type ApprovalReport = components["schemas"]["ApprovalReport"];
export type TaskReport = components["schemas"]["TaskReport"];

/** The days a report covers (ISO `YYYY-MM-DD`, UTC days, inclusive); a side left out is open, both = all time. */
export interface Period {
  from?: string;
  to?: string;
}

// The query string of a period, and the key part that tells periods apart.
const query = (period: Period) => ({ from: period.from || undefined, to: period.to || undefined });
const key = (period: Period) => ({ from: period.from || null, to: period.to || null });
// A new period keeps the last figures on screen until its own arrive (no flash of "loading").
const shared = { placeholderData: keepPreviousData };

export function useSalesSummary(period: Period) {
  return useQuery({
    queryKey: ["reports", "sales-summary", key(period)],
    queryFn: () => call(() => api.GET("/api/reports/sales-summary", { params: { query: query(period) } })),
    ...shared,
  });
}

export function useCustomerReport(period: Period) {
  return useQuery({
    queryKey: ["reports", "customers", key(period)],
    queryFn: () => call(() => api.GET("/api/reports/customers", { params: { query: query(period) } })),
    ...shared,
  });
}

export function useApprovalReport(period: Period) {
  return useQuery({
    queryKey: ["reports", "approvals", key(period)],
    queryFn: () => call(() => api.GET("/api/reports/approvals", { params: { query: query(period) } })),
    ...shared,
  });
}

export function useTaskReport(period: Period) {
  return useQuery({
    queryKey: ["reports", "tasks", key(period)],
    queryFn: () => call(() => api.GET("/api/reports/tasks", { params: { query: query(period) } })),
    ...shared,
  });
}
