import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderWithProviders, signedInAs } from "../../test/render";
import CustomersPage from "./CustomersPage";

const customer = (i: number) => ({
  id: `c${i}`,
  name: `Company ${i}`,
  email: `c${i}@example.com`,
  phone: null,
  industry: "Technology",
  size: "MEDIUM",
  ownerId: "u1",
  createdBy: "u1",
  createdAt: `2026-01-0${i}T00:00:00Z`,
  updatedAt: `2026-01-0${i}T00:00:00Z`,
  deletedAt: null,
});

describe("CustomersPage", () => {
  it("lists a server page, searches on the server, and pages with offset", async () => {
    signedInAs("SALES");
    const calls = fakeApi({
      "GET /api/customers": (req) => {
        const url = new URL(req.url);
        return { items: [customer(1), customer(2)], total: 45, limit: Number(url.searchParams.get("limit")), offset: Number(url.searchParams.get("offset")) };
      },
    });
    renderWithProviders(<CustomersPage />, "/customers");
    expect(await screen.findByText("Company 1")).toBeInTheDocument();
    expect(screen.getByText("45 customers")).toBeInTheDocument();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Search"), "acme");
    await waitFor(() => expect(calls.some((c) => new URL(c.url).searchParams.get("q") === "acme")).toBe(true));
    await user.click(screen.getByRole("button", { name: "Page 3" }));
    await waitFor(() => expect(calls.some((c) => new URL(c.url).searchParams.get("offset") === "40")).toBe(true));
  });

  it("hides creating and deleting from COMPLIANCE (read-only)", async () => {
    signedInAs("COMPLIANCE");
    fakeApi({ "GET /api/customers": () => ({ items: [customer(1)], total: 1, limit: 20, offset: 0 }) });
    renderWithProviders(<CustomersPage />, "/customers");
    expect(await screen.findByText("Company 1")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New customer" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete Company 1" })).not.toBeInTheDocument();
  });
  it("sorts the whole list on the server from the column headers, kept in the URL", async () => {
    signedInAs("SALES");
    const calls = fakeApi({ "GET /api/customers": () => ({ items: [customer(1), customer(2)], total: 2, limit: 20, offset: 0 }) });
    const { router } = renderWithProviders(<CustomersPage />, "/customers?page=2");
    expect(await screen.findByText("Company 1")).toBeInTheDocument();
    const sorts = () => calls.map((c) => new URL(c.url).searchParams.get("sort"));
    expect(sorts()).toContain("-createdAt"); // newest first unless chosen
    expect(screen.getByRole("columnheader", { name: /Created/ })).toHaveAttribute("aria-sort", "descending");

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Name" }));
    await waitFor(() => expect(sorts()).toContain("name"));
    expect(screen.getByRole("columnheader", { name: "Name" })).toHaveAttribute("aria-sort", "ascending");
    expect(screen.getByRole("columnheader", { name: /Created/ })).not.toHaveAttribute("aria-sort");
    expect(router.state.location.search).toBe("?sort=name"); // back to the first page
    const offsets = calls.filter((c) => new URL(c.url).searchParams.get("sort") === "name").map((c) => new URL(c.url).searchParams.get("offset"));
    expect(offsets).toEqual(["0"]);

    await user.click(screen.getByRole("button", { name: "Name" }));
    await waitFor(() => expect(sorts()).toContain("-name"));
    expect(screen.getByRole("columnheader", { name: "Name" })).toHaveAttribute("aria-sort", "descending");
    expect(router.state.location.search).toBe("?sort=-name");
  });
});
