// Server state of the customers screen (query keys start with "customers"; tasks/meetings/... keep their own
// prefixes so the live stream's invalidations reach the detail page's sections too).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call } from "../../lib/api";
import type { components, paths } from "../../api/schema";

export type Customer = components["schemas"]["CustomerOut"];
export type CustomerInput = components["schemas"]["CustomerCreate"];
export type CompanySize = components["schemas"]["CompanySize"];
export type CustomerSort = NonNullable<NonNullable<paths["/api/customers"]["get"]["parameters"]["query"]>["sort"]>;
export const SIZES: CompanySize[] = ["SMALL", "MEDIUM", "LARGE", "ENTERPRISE"];

export interface CustomerFilters {
  q?: string;
  industry?: string;
  size?: CompanySize;
  deleted?: boolean;
  /** the API's sort (`name`, `-createdAt`, …), applied before limit/offset */
  sort?: CustomerSort;
  limit: number;
  offset: number;
}

export function useCustomers(filters: CustomerFilters) {
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== "" && v !== false));
  return useQuery({
    queryKey: ["customers", "list", query],
    queryFn: () => call(() => api.GET("/api/customers", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

export function useCustomer(id: string) {
  return useQuery({
    queryKey: ["customers", "one", id],
    queryFn: () => call(() => api.GET("/api/customers/{customer_id}", { params: { path: { customer_id: id } } })),
  });
}

/** null for an empty optional field, so clearing a field clears it on the server. */
export function cleanInput(values: CustomerInput): CustomerInput {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) out[key] = value === "" ? null : value;
  return out as unknown as CustomerInput;
}

function useInvalidate() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: ["customers"] });
}

export function useCreateCustomer() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (body: CustomerInput) => call(() => api.POST("/api/customers", { body: cleanInput(body) })),
    onSuccess: invalidate,
  });
}

export function useUpdateCustomer(id: string) {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (body: CustomerInput) =>
      call(() =>
        api.PATCH("/api/customers/{customer_id}", { params: { path: { customer_id: id } }, body: cleanInput(body) }),
      ),
    onSuccess: invalidate,
  });
}

export function useDeleteCustomer() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (id: string) => call(() => api.DELETE("/api/customers/{customer_id}", { params: { path: { customer_id: id } } })),
    onSuccess: invalidate,
  });
}

export function useRestoreCustomer() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (id: string) =>
      call(() => api.POST("/api/customers/{customer_id}/restore", { params: { path: { customer_id: id } } })),
    onSuccess: invalidate,
  });
}

// -- the detail page's sections -----------------------------------------------------------------------------

export function useCustomerTasks(customerId: string) {
  return useQuery({
    queryKey: ["tasks", "customer", customerId],
    queryFn: () => call(() => api.GET("/api/tasks", { params: { query: { customerId, limit: 100 } } })),
  });
}

export function useCustomerMeetings(customerId: string) {
  return useQuery({
    queryKey: ["meetings", "customer", customerId],
    queryFn: () => call(() => api.GET("/api/meetings", { params: { query: { customerId, limit: 100 } } })),
  });
}

export function useCustomerDeals(customerId: string) {
  return useQuery({
    queryKey: ["opportunities", "customer", customerId],
    queryFn: () => call(() => api.GET("/api/opportunities", { params: { query: { customerId, limit: 100 } } })),
  });
}

/** The approvals on the customer's deals, in one request (`customerId`), newest first. */
export function useCustomerApprovals(customerId: string) {
  return useQuery({
    queryKey: ["approvals", "customer", customerId],
    queryFn: () => call(() => api.GET("/api/approvals", { params: { query: { customerId, limit: 100 } } })),
  });
}

/** What happened to the customer (analytics' record of its events, newest first; trails by a moment). Under
 * "customers" so the live stream's customer, task and deal events refresh it. */
export function useCustomerTimeline(customerId: string) {
  return useQuery({
    queryKey: ["timeline", customerId], // analytics' record: refreshed by the live stream (lib/live.ts)
    queryFn: () =>
      call(() =>
        api.GET("/api/reports/customers/{customer_id}/timeline", { params: { path: { customer_id: customerId }, query: { limit: 100 } } }),
      ),
    retry: false, // 404 for a caller who may see the customer but not its record: the page falls back at once
  });
}
