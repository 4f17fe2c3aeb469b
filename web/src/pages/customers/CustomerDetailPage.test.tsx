import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderRoutes, signedInAs } from "../../test/render";
import CustomerDetailPage from "./CustomerDetailPage";

const customer = {
  id: "c1",
  name: "Acme",
  email: null,
  phone: null,
  industry: null,
  size: null,
  ownerId: "u1",
  createdBy: "u1",
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
  deletedAt: null,
};
const page = (items: unknown[]) => ({ items, total: items.length, limit: 100, offset: 0 });
const deal = (id: string) => ({ id, name: `Deal ${id}`, customerId: "c1", stage: "LEAD", amount: "100.00", currency: "JPY", expectedCloseDate: null, closedAt: null, createdAt: "2026-01-02T00:00:00Z", updatedAt: "2026-01-02T00:00:00Z" });
const approval = (id: string, opportunityId: string) => ({ id, title: `Discount ${id}`, opportunityId, customerId: "c1", status: "PENDING", createdAt: "2026-01-03T00:00:00Z", decidedAt: null });

const render = (path = "/customers/c1") => renderRoutes([{ path: "/customers/:customerId", element: <CustomerDetailPage /> }], path);

describe("CustomerDetailPage", () => {
  it("lists the approvals on all of the customer's deals from one customerId request", async () => {
    signedInAs("SALES");
    const calls = fakeApi({
      "GET /api/customers/c1": () => customer,
      "GET /api/tasks": () => page([]),
      "GET /api/meetings": () => page([]),
      "GET /api/opportunities": () => page([deal("d1"), deal("d2")]),
      "GET /api/approvals": () => page([approval("a1", "d1"), approval("a2", "d2")]),
      "GET /api/reports/customers/c1/timeline": () => page([]),
    });
    render();
    await userEvent.setup().click(await screen.findByRole("tab", { name: "Approvals (2)" }));
    expect(await screen.findByText("Discount a1")).toBeInTheDocument();
    expect(screen.getByText("Discount a2")).toBeInTheDocument();
    const asked = calls.filter((c) => new URL(c.url).pathname === "/api/approvals").map((c) => new URL(c.url).searchParams);
    await waitFor(() => expect(asked).toHaveLength(1));
    expect(asked[0].get("customerId")).toBe("c1");
    expect(asked[0].get("opportunityId")).toBeNull();
  });
});
