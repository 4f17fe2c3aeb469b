import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../lib/errors";
import { fakeApi, renderWithProviders } from "../../test/render";
import { ApprovalRequestForm, DealForm } from "./DealForms";
import type { Deal } from "./queries";

const customer = (id: string, name: string) => ({ id, name, email: null, phone: null, industry: null, size: null, ownerId: "u1", createdBy: "u1", createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z", deletedAt: null });
const page = (items: unknown[]) => ({ items, total: items.length, limit: 20, offset: 0 });
const customers = [customer("c1", "Acme"), customer("c2", "Globex")];

describe("DealForm", () => {
  it("finds the customer on the server as the user types, then sends the chosen id", async () => {
    const calls = fakeApi({
      "GET /api/customers": (r) => {
        const q = new URL(r.url).searchParams.get("q")?.toLowerCase();
        return page(customers.filter((c) => !q || c.name.toLowerCase().includes(q)));
      },
    });
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<DealForm onSubmit={onSubmit} onCancel={() => {}} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("combobox", { name: /Customer/ }), "glo");
    await waitFor(() => expect(screen.queryByRole("option", { name: "Acme" })).not.toBeInTheDocument()); // the server's answer to "glo"
    await user.click(screen.getByRole("option", { name: "Globex" }));
    await user.type(screen.getByLabelText(/Deal name/), "Renewal");
    await user.type(screen.getByLabelText(/Amount/), "1200");
    await user.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(onSubmit).toHaveBeenCalledWith({ customerId: "c2", name: "Renewal", amount: "1200", currency: "JPY", stage: "LEAD" }));
    const searches = calls.filter((c) => new URL(c.url).pathname === "/api/customers").map((c) => new URL(c.url).searchParams);
    expect(searches.some((p) => p.get("q") === "glo")).toBe(true); // a server-side search…
    expect(searches.every((p) => p.get("limit") === "20")).toBe(true); // …of one short page, never the whole list
  });

  it("shows the server's 422 beside the customer field and keeps what was typed", async () => {
    fakeApi({ "GET /api/customers": () => page(customers) });
    const onSubmit = vi.fn().mockRejectedValue(new ApiError(422, { error: "validation_error", message: "Invalid input", fields: { customerId: "Field required" } }, ""));
    renderWithProviders(<DealForm onSubmit={onSubmit} onCancel={() => {}} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/Deal name/), "Orphan deal");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Field required")).toBeInTheDocument();
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ customerId: "", name: "Orphan deal" }));
    expect(screen.getByLabelText(/Deal name/)).toHaveValue("Orphan deal");
  });
});

describe("ApprovalRequestForm", () => {
  it("sends the request with its own submit label and cancels", async () => {
    fakeApi({});
    const deal = { id: "d1", name: "Big Deal" } as Deal;
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    const onCancel = vi.fn();
    renderWithProviders(<ApprovalRequestForm deal={deal} onSubmit={onSubmit} onCancel={onCancel} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Reason" }), "Three-year contract");
    await user.click(screen.getByRole("button", { name: "Request approval" }));
    await waitFor(() =>
      expect(onSubmit).toHaveBeenCalledWith({ opportunityId: "d1", title: "Approval for Big Deal", reason: "Three-year contract", approverRole: "MANAGER" }),
    );
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalled();
  });
});
