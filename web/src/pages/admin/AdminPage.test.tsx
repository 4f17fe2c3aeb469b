import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { buildRoutes } from "../../App";
import { fakeApi, json, renderRoutes, renderWithProviders, signedInAs } from "../../test/render";
import AdminPage from "./AdminPage";

const user = (id: string, name: string, role: string, managerId: string | null = null) => ({
  id,
  email: `${id}@example.com`,
  name,
  role: role as "ADMIN",
  managerId,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: null,
});
const people = [user("u1", "Ada Admin", "ADMIN"), user("u2", "Sam Sales", "SALES", "u3"), user("u3", "Mia Manager", "MANAGER")];
const page = (items: unknown[], total = items.length) => ({ items, total, limit: 25, offset: 0 });
const entry = (i: number) => ({ id: `a${i}`, at: "2026-01-02T03:04:05Z", action: "LOGIN_SUCCEEDED", actorId: "u2", actorEmail: "u2@example.com", targetId: null, ip: "127.0.0.1", detail: {} });
const quiet = { "GET /api/notifications/unread": () => ({ count: 0, items: [] }) };

describe("AdminPage", () => {
  it("keeps SALES out: no navigation entry and a clear 403 at the URL", async () => {
    signedInAs("SALES");
    const calls = fakeApi(quiet);
    renderRoutes(buildRoutes(), "/admin");
    expect(await screen.findByRole("alert")).toHaveTextContent("Not allowed");
    expect(screen.getByRole("navigation", { name: "Main navigation" })).not.toHaveTextContent("Administration");
    expect(screen.queryByRole("table", { name: "Users" })).not.toBeInTheDocument();
    expect(calls.some((c) => c.url.includes("/api/auth/"))).toBe(false);
  });

  it("shows COMPLIANCE the audit log only, filtered and paged on the server", async () => {
    signedInAs("COMPLIANCE");
    const calls = fakeApi({ "GET /api/auth/audit": () => ({ items: [entry(1)], total: 120, limit: 50, offset: 0 }) });
    renderWithProviders(<AdminPage />, "/admin");
    expect(await screen.findByTestId("audit-row")).toHaveTextContent("Signed in");
    expect(screen.queryByRole("tab", { name: "Users" })).not.toBeInTheDocument();
    expect(screen.queryByRole("tab", { name: "API keys" })).not.toBeInTheDocument();
    expect(screen.getByText("120 entries")).toBeInTheDocument();
    const u = userEvent.setup();
    await u.click(screen.getByRole("button", { name: "Page 3" }));
    await waitFor(() => expect(calls.some((c) => new URL(c.url).searchParams.get("offset") === "100")).toBe(true));
    await u.click(screen.getByRole("button", { name: "Show only what u2@example.com did" }));
    await waitFor(() => expect(calls.some((c) => new URL(c.url).searchParams.get("actorId") === "u2")).toBe(true));
    expect(screen.getByLabelText("Actor id")).toHaveValue("u2");
  });

  it("lists users with their managers and shows the empty state", async () => {
    signedInAs("ADMIN");
    fakeApi({ "GET /api/auth/users": (req) => (new URL(req.url).searchParams.get("q") === "zzz" ? page([]) : page(people)) });
    renderWithProviders(<AdminPage />, "/admin");
    const row = (await screen.findAllByTestId("user-row"))[1];
    expect(row).toHaveTextContent("Sam Sales");
    await waitFor(() => expect(row).toHaveTextContent("Mia Manager"), { timeout: 5000 });
    expect(screen.queryByRole("button", { name: "Delete Test ADMIN" })).not.toBeInTheDocument();
    const u = userEvent.setup();
    await u.type(screen.getByLabelText("Search users"), "zzz");
    expect(await screen.findByText("No users match.", {}, { timeout: 5000 })).toBeInTheDocument(); // after the 300 ms debounce
  });

  it("sorts the users and the audit log on the server from their headers, back to the first page", async () => {
    signedInAs("ADMIN");
    const calls = fakeApi({
      "GET /api/auth/users": () => page(people, 60),
      "GET /api/auth/audit": () => ({ items: [entry(1)], total: 1, limit: 50, offset: 0 }),
    });
    renderWithProviders(<AdminPage />, "/admin");
    await screen.findAllByTestId("user-row");
    const asked = (path: string) => calls.filter((c) => c.url.includes(path)).map((c) => new URL(c.url).searchParams);
    expect(asked("/api/auth/users")[0].get("sort")).toBeNull(); // the API's own order until a header is chosen
    const u = userEvent.setup();
    await u.click(screen.getByRole("button", { name: "Page 2" }));
    await u.click(screen.getByRole("button", { name: "Name" }));
    await waitFor(() => expect(asked("/api/auth/users").at(-1)?.get("sort")).toBe("name"));
    expect(asked("/api/auth/users").at(-1)?.get("offset")).toBe("0");
    await u.click(screen.getByRole("button", { name: "Name" }));
    await waitFor(() => expect(asked("/api/auth/users").at(-1)?.get("sort")).toBe("-name"));
    expect(screen.getByRole("columnheader", { name: "Name" })).toHaveAttribute("aria-sort", "descending");
    await u.click(screen.getByRole("tab", { name: "Audit log" }));
    await screen.findByTestId("audit-row");
    await u.click(screen.getByRole("button", { name: "Action" }));
    await waitFor(() => expect(asked("/api/auth/audit").at(-1)?.get("sort")).toBe("action"));
  });

  it("says why the last ADMIN cannot be deleted (409)", async () => {
    signedInAs("ADMIN", "u9");
    fakeApi({
      "GET /api/auth/users": () => page(people),
      "DELETE /api/auth/users/u1": () => json({ error: "conflict", message: "The last administrator cannot be deleted" }, 409),
    });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    renderWithProviders(<AdminPage />, "/admin");
    const u = userEvent.setup();
    await u.click(await screen.findByRole("button", { name: "Delete Ada Admin" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Conflict");
    expect(alert).toHaveTextContent("The last administrator cannot be deleted");
  });

  it("keeps the form open with the 409 when the last ADMIN would lose the role", async () => {
    signedInAs("ADMIN", "u9");
    const calls = fakeApi({
      "GET /api/auth/users": () => page(people),
      "PATCH /api/auth/users/u1": () =>
        json({ error: "conflict", message: "The last administrator cannot lose the ADMIN role", fields: { role: "last ADMIN" } }, 409),
    });
    renderWithProviders(<AdminPage />, "/admin");
    const u = userEvent.setup();
    await u.click(await screen.findByRole("button", { name: "Edit Ada Admin" }));
    const form = await screen.findByRole("form", { name: "Edit user" });
    await u.click(within(form).getByLabelText("Role", { selector: "input" }));
    await u.click(await screen.findByRole("option", { name: "Sales" }));
    await u.click(within(form).getByRole("button", { name: "Save" }));
    expect(await within(form).findByText("The last administrator cannot lose the ADMIN role")).toBeInTheDocument();
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(await patch.json()).toMatchObject({ role: "SALES" });
  });

  it("creates a user, showing a 422 beside its field", async () => {
    signedInAs("ADMIN");
    fakeApi({
      "GET /api/auth/users": () => page(people),
      "POST /api/auth/users": () => json({ error: "validation_error", message: "Invalid input", fields: { password: "too common" } }, 422),
    });
    renderWithProviders(<AdminPage />, "/admin");
    const u = userEvent.setup();
    await u.click(await screen.findByRole("button", { name: "New user" }));
    const form = await screen.findByRole("form", { name: "New user" });
    await u.type(within(form).getByLabelText(/^Name/), "New Person");
    await u.type(within(form).getByLabelText(/^Email/), "new@example.com");
    await u.type(within(form).getByLabelText(/^Password/), "password1");
    await u.click(within(form).getByRole("button", { name: "Save" }));
    expect(await within(form).findByText("too common")).toBeInTheDocument();
    expect(within(form).getByLabelText(/^Name/)).toHaveValue("New Person");
  });

  it("shows a new API key once, with a copy button, and revokes keys", async () => {
    signedInAs("ADMIN");
    const key = { id: "k1", name: "ERP", role: "SALES", prefix: "crm_ab12", createdBy: "u1", createdAt: "2026-01-01T00:00:00Z", lastUsedAt: null, revokedAt: null };
    const calls = fakeApi({
      "GET /api/auth/api-keys": () => page([key]),
      "POST /api/auth/api-keys": () => ({ ...key, id: "k2", name: "Billing", key: "crm_secret_value" }),
      "DELETE /api/auth/api-keys/k1": () => new Response(null, { status: 204 }),
    });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    renderWithProviders(<AdminPage />, "/admin?tab=keys");
    const u = userEvent.setup();
    expect(await screen.findByText("ERP")).toBeInTheDocument();
    expect(screen.getByText("Never")).toBeInTheDocument();
    await u.type(screen.getByLabelText(/^Key name/), "Billing");
    await u.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByTestId("new-api-key")).toHaveTextContent("crm_secret_value");
    expect(screen.getByRole("button", { name: "Copy" })).toBeInTheDocument();
    await u.click(screen.getByRole("button", { name: "Hide the key" }));
    expect(screen.queryByText("crm_secret_value")).not.toBeInTheDocument();
    await u.click(screen.getByRole("button", { name: "Revoke ERP" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.endsWith("/api/auth/api-keys/k1"))).toBe(true));
  });

  it("shows a failed load with a retry", async () => {
    signedInAs("ADMIN");
    fakeApi({ "GET /api/auth/users": () => json({ error: "forbidden", message: "Role not allowed" }, 403) });
    renderWithProviders(<AdminPage />, "/admin");
    expect((await screen.findAllByText("Not allowed")).length).toBeGreaterThan(0);
    expect(screen.getAllByRole("button", { name: "Retry" }).length).toBeGreaterThan(0);
  });
});
