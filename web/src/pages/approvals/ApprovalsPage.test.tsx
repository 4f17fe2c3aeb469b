import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderWithProviders, signedInAs } from "../../test/render";
import ApprovalsPage from "./ApprovalsPage";

const approval = (id: string, title: string) => ({
  id,
  title,
  approverRole: "MANAGER",
  comment: null,
  createdAt: "2026-01-01T00:00:00Z",
  customerId: "c1",
  decidedAt: null,
  decidedBy: null,
  opportunityId: "d1",
  reason: null,
  requesterId: "u2",
  status: "PENDING",
  updatedAt: "2026-01-01T00:00:00Z",
});
const page = (items: unknown[]) => ({ items, total: items.length, limit: 100, offset: 0 });

describe("ApprovalsPage", () => {
  it("lets an approver read the inbox oldest first, sorted by the API", async () => {
    signedInAs("MANAGER");
    const calls = fakeApi({
      "GET /api/approvals/pending": () => page([approval("a1", "Discount for Acme")]),
      "GET /api/approvals": () => page([]),
    });
    const { router } = renderWithProviders(<ApprovalsPage />, "/approvals");
    expect(await screen.findByText("Discount for Acme")).toBeInTheDocument();
    const inbox = () => calls.filter((c) => new URL(c.url).pathname === "/api/approvals/pending").map((c) => new URL(c.url).searchParams.get("sort"));
    expect(inbox()).toEqual([null]); // the API's order: newest first
    expect(screen.getByRole("columnheader", { name: /Requested/ })).toHaveAttribute("aria-sort", "descending");

    await userEvent.setup().click(screen.getByRole("button", { name: "Requested" }));
    await waitFor(() => expect(inbox()).toContain("createdAt"));
    expect(screen.getByRole("columnheader", { name: /Requested/ })).toHaveAttribute("aria-sort", "ascending");
    expect(router.state.location.search).toBe("?sort=createdAt");
  });
});
