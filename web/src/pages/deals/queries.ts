import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { components } from "../../api/schema";
import { api, call } from "../../lib/api";

export type Deal = components["schemas"]["OpportunityOut"];
export type Stage = components["schemas"]["Stage"];
export type DealInput = components["schemas"]["OpportunityCreate"];
export type ApprovalInput = components["schemas"]["ApprovalCreate"];
export const STAGES: Stage[] = ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"];

export function useDeals() {
  return useQuery({
    queryKey: ["opportunities", "board"],
    queryFn: () => call(() => api.GET("/api/opportunities", { params: { query: { limit: 500 } } })),
  });
}

export function useDealActions() {
  const client = useQueryClient();
  const settle = () => client.invalidateQueries({ queryKey: ["opportunities"] });
  const move = useMutation({
    mutationFn: ({ id, stage }: { id: string; stage: Stage }) =>
      call(() => api.PATCH("/api/opportunities/{opportunity_id}", { params: { path: { opportunity_id: id } }, body: { stage } })),
    // Optimistic: the card moves at once, and back if the server refuses.
    onMutate: async ({ id, stage }) => {
      await client.cancelQueries({ queryKey: ["opportunities", "board"] });
      const before = client.getQueryData<{ items: Deal[] }>(["opportunities", "board"]);
      if (before) {
        client.setQueryData(["opportunities", "board"], { ...before, items: before.items.map((d) => (d.id === id ? { ...d, stage } : d)) });
      }
      return { before };
    },
    onError: (_e, _v, context) => {
      if (context?.before) client.setQueryData(["opportunities", "board"], context.before);
    },
    onSettled: settle,
  });
  const create = useMutation({
    mutationFn: (body: DealInput) => call(() => api.POST("/api/opportunities", { body })),
    onSuccess: settle,
  });
  const requestApproval = useMutation({
    mutationFn: (body: ApprovalInput) => call(() => api.POST("/api/approvals", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["approvals"] }),
  });
  return { move, create, requestApproval };
}

/** Sum of exact decimal strings, in minor units of 1/100 to stay exact for display. */
export function total(deals: Deal[]): string {
  let cents = 0n;
  for (const d of deals) {
    const [whole, frac = ""] = d.amount.split(".");
    cents += BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2)) * (whole.startsWith("-") ? -1n : 1n);
  }
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  return `${negative ? "-" : ""}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}
