// Server state of the reports screen (keys start with "reports"). The figures are the analytics read models'.
import { useQuery } from "@tanstack/react-query";
import type { components } from "../../api/schema";
import { api, call } from "../../lib/api";

export type SalesSummary = components["schemas"]["SalesSummary"];
export type CustomerReport = components["schemas"]["CustomerReport"];
export type ApprovalReport = components["schemas"]["ApprovalReport"];
export type TaskReport = components["schemas"]["TaskReport"];

export function useSalesSummary() {
  return useQuery({ queryKey: ["reports", "sales-summary"], queryFn: () => call(() => api.GET("/api/reports/sales-summary")) });
}

export function useCustomerReport() {
  return useQuery({ queryKey: ["reports", "customers"], queryFn: () => call(() => api.GET("/api/reports/customers")) });
}

export function useApprovalReport() {
  return useQuery({ queryKey: ["reports", "approvals"], queryFn: () => call(() => api.GET("/api/reports/approvals")) });
}

export function useTaskReport() {
  return useQuery({ queryKey: ["reports", "tasks"], queryFn: () => call(() => api.GET("/api/reports/tasks")) });
}
