import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fakeApi, renderWithProviders, signedInAs } from "../../test/render";
import DashboardPage from "./DashboardPage";

const page = (items: unknown[]) => ({ items, total: items.length, limit: 50, offset: 0 });
const deal = (id: string, stage: string, amount: string) => ({
  id,
  name: `Deal ${id}`,
  customerId: "c1",
  ownerId: "u1",
  createdBy: "u1",
  stage,
  amount,
  currency: "JPY",
  expectedCloseDate: null,
  closedAt: null,
  activityCount: 0,
  lastActivityAt: null,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
});

describe("DashboardPage", () => {
  it("shows the pipeline value per stage as text, with bars and no chart", async () => {
    signedInAs("SALES");
    fakeApi({
      "GET /api/opportunities": () => page([deal("d1", "LEAD", "1000"), deal("d2", "LEAD", "500"), deal("d3", "WON", "3000")]),
      "GET /api/customers": () => page([]),
      "GET /api/tasks": () => page([]),
      "GET /api/meetings": () => page([]),
      "GET /api/approvals": () => page([]),
    });
    const { container } = renderWithProviders(<DashboardPage />);
    const table = await screen.findByRole("table", { name: "Deals and value per stage" });
    const lead = within(table).getByRole("row", { name: /Lead/ });
    expect(within(lead).getByText("2")).toBeInTheDocument();
    expect(within(lead).getByText(/1,500/)).toBeInTheDocument();
    const won = within(table).getByRole("row", { name: /Won/ });
    expect(within(won).getByText(/3,000/)).toBeInTheDocument();
    expect(within(table).getAllByTestId("pipeline-stage")).toHaveLength(6);
    expect(container.querySelector(".recharts-wrapper, svg.recharts-surface")).toBeNull();
  });
  it("shows recent activity newest first from one request per list sorted by the API", async () => {
    signedInAs("SALES");
    const at = (day: number) => `2026-01-${String(day).padStart(2, "0")}T00:00:00Z`;
    const calls = fakeApi({
      "GET /api/customers": () => page([{ id: "c1", name: "Acme", updatedAt: at(3) }]),
      "GET /api/tasks": () => page([{ id: "t1", title: "Call Acme", customerId: "c1", updatedAt: at(5) }]),
      "GET /api/meetings": () => page([{ id: "m1", title: "Kick-off", customerId: "c1", updatedAt: at(1) }]),
      "GET /api/opportunities": () => page([{ ...deal("d1", "LEAD", "1000"), updatedAt: at(4) }]),
      "GET /api/approvals": () => page([]),
    });
    renderWithProviders(<DashboardPage />);
    const recent = await screen.findByRole("list", { name: "Recent activity" });
    await waitFor(() => expect(within(recent).getAllByRole("listitem")).toHaveLength(4));
    expect(within(recent).getAllByRole("link").map((a) => a.textContent)).toEqual(["Call Acme", "Deal d1", "Acme", "Kick-off"]);
    const sorted = calls.filter((c) => new URL(c.url).searchParams.get("sort") === "-updatedAt").map((c) => new URL(c.url).pathname);
    expect(sorted.sort()).toEqual(["/api/customers", "/api/meetings", "/api/opportunities", "/api/tasks"]);
    expect(calls.some((c) => Number(new URL(c.url).searchParams.get("offset") ?? 0) > 0)).toBe(false); // no "last page" reads
  });
});
