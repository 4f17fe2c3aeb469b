import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderWithProviders, signedInAs } from "../../test/render";
import TasksPage from "./TasksPage";

const task = (id: string, title: string, dueDate: string | null, status = "TODO") => ({
  id,
  title,
  description: null,
  customerId: null,
  opportunityId: null,
  assigneeId: "u1",
  createdBy: "u1",
  status,
  priority: "MEDIUM",
  dueDate,
  kind: "manual",
  completedAt: null,
  completedBy: null,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
});

describe("TasksPage", () => {
  it("marks overdue tasks, completes one and reprioritises another", async () => {
    signedInAs("SALES");
    const calls = fakeApi({
      "GET /api/tasks": () => ({
        items: [task("t1", "Call Acme", "2020-01-01T09:00:00Z"), task("t2", "Send offer", "2999-01-01T09:00:00Z")],
        total: 2,
        limit: 25,
        offset: 0,
      }),
      "POST /api/tasks/t1/complete": () => task("t1", "Call Acme", "2020-01-01T09:00:00Z", "COMPLETED"),
      "PATCH /api/tasks/t2": () => ({ ...task("t2", "Send offer", "2999-01-01T09:00:00Z"), priority: "URGENT" }),
    });
    renderWithProviders(<TasksPage />, "/tasks");
    const rows = await screen.findAllByTestId("task-row");
    expect(rows[0]).toHaveAttribute("data-overdue", "true");
    expect(within(rows[0]).getByText(/overdue/)).toBeInTheDocument();
    expect(rows[1]).not.toHaveAttribute("data-overdue");

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Complete “Call Acme”" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url.endsWith("/api/tasks/t1/complete"))).toBe(true));

    await user.click(screen.getAllByLabelText("Priority of “Send offer”")[0]);
    await user.click(await screen.findByRole("option", { name: "Urgent" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH" && c.url.endsWith("/api/tasks/t2"))).toBe(true));
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(await patch.json()).toEqual({ priority: "URGENT" });
  });
  it("sorts on the server from the headers, in the URL, the API's order until one is chosen", async () => {
    signedInAs("SALES");
    const calls = fakeApi({ "GET /api/tasks": () => ({ items: [task("t1", "Call Acme", null)], total: 1, limit: 25, offset: 0 }) });
    const { router } = renderWithProviders(<TasksPage />, "/tasks");
    expect(await screen.findByText("Call Acme")).toBeInTheDocument();
    const sorts = () => calls.map((c) => new URL(c.url).searchParams.get("sort"));
    expect(sorts()).toEqual([null]);
    expect(screen.getByRole("columnheader", { name: /Due/ })).toHaveAttribute("aria-sort", "ascending");

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Priority" }));
    await waitFor(() => expect(sorts()).toContain("priority"));
    await user.click(screen.getByRole("button", { name: "Priority" }));
    await waitFor(() => expect(sorts()).toContain("-priority"));
    expect(screen.getByRole("columnheader", { name: "Priority" })).toHaveAttribute("aria-sort", "descending");
    expect(screen.getByRole("columnheader", { name: /Due/ })).not.toHaveAttribute("aria-sort");
    expect(router.state.location.search).toBe("?sort=-priority");
  });
});
