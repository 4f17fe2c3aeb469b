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
  it("shows the server's timeline, others' changes included, newest first as sent", async () => {
    signedInAs("SALES");
    const entry = (id: string, type: string, at: string, detail: Record<string, unknown>, actorId: string | null = "u2") => ({ id, type, at, subjectId: "c1", actorId, detail });
    fakeApi({
      "GET /api/customers/c1": () => customer,
      "GET /api/tasks": () => page([]),
      "GET /api/meetings": () => page([]),
      "GET /api/opportunities": () => page([]),
      "GET /api/approvals": () => page([]),
      "GET /api/reports/customers/c1/timeline": () =>
        page([
          entry("e3", "OPPORTUNITY_STAGE_CHANGED", "2026-01-05T00:00:00Z", { name: "Big deal", fromStage: "LEAD", toStage: "PROPOSAL" }, "u1"),
          entry("e2", "CUSTOMER_UPDATED", "2026-01-04T00:00:00Z", { name: "Acme", changed: ["ownerId"], ownerId: "u3" }),
          entry("e1", "APPROVAL_STATUS_CHANGED", "2026-01-03T00:00:00Z", { title: "Discount", status: "REJECTED" }),
        ]),
    });
    render();
    await userEvent.setup().click(await screen.findByRole("tab", { name: "Timeline" }));
    const timeline = await screen.findByTestId("customer-timeline");
    await waitFor(() => expect(timeline).toHaveTextContent("Deal moved to Proposal"));
    const text = timeline.textContent ?? "";
    expect(text.indexOf("Deal moved to Proposal")).toBeLessThan(text.indexOf("Customer reassigned"));
    expect(text.indexOf("Customer reassigned")).toBeLessThan(text.indexOf("Approval: Rejected"));
    expect(text).toContain("by you"); // e3 was the signed-in user's
    expect(screen.queryByText(/could not be read/)).not.toBeInTheDocument();
  });

  it("builds the timeline from the customer's lists when its record cannot be read", async () => {
    signedInAs("SALES");
    fakeApi({
      "GET /api/customers/c1": () => customer,
      "GET /api/tasks": () => page([]),
      "GET /api/meetings": () => page([]),
      "GET /api/opportunities": () => page([deal("d1")]),
      "GET /api/approvals": () => page([]),
      // no fake for the timeline: it answers 404
    });
    render();
    await userEvent.setup().click(await screen.findByRole("tab", { name: "Timeline" }));
    expect(await screen.findByText(/could not be read/)).toBeInTheDocument();
    const timeline = screen.getByTestId("customer-timeline");
    await waitFor(() => expect(timeline).toHaveTextContent("Deal opened"));
    expect(timeline).toHaveTextContent("Customer created");
  });
});

describe("the server's timeline before it has the customer's creation", () => {
  it("adds the creation from the customer itself", async () => {
    signedInAs("SALES");
    fakeApi({
      "GET /api/customers/c1": () => customer,
      "GET /api/tasks": () => page([]),
      "GET /api/meetings": () => page([]),
      "GET /api/opportunities": () => page([]),
      "GET /api/approvals": () => page([]),
      "GET /api/reports/customers/c1/timeline": () =>
        page([{ id: "e1", type: "TASK_CREATED", at: "2026-01-01T00:00:01Z", subjectId: "t1", actorId: null, detail: { title: "Initial contact: Acme" } }]),
    });
    render();
    await userEvent.setup().click(await screen.findByRole("tab", { name: "Timeline" }));
    const timeline = await screen.findByTestId("customer-timeline");
    await waitFor(() => expect(timeline).toHaveTextContent("Task created"));
    expect(timeline).toHaveTextContent("Customer created");
    expect(timeline.textContent!.indexOf("Task created")).toBeLessThan(timeline.textContent!.indexOf("Customer created"));
  });
});
