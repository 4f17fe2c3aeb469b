import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { buildRoutes } from "../App";
import { fakeApi, renderRoutes, signedInAs } from "../test/render";

const unread = {
  count: 2,
  items: [
    { id: "n1", kind: "APPROVAL_RESULT", title: "Discount approved", subjectType: "approval", subjectId: "a1", createdAt: "2026-01-01T00:00:00Z", read: false, readAt: null },
    { id: "n2", kind: "TASK_DUE_SOON", title: "Call Acme is due soon", subjectType: "task", subjectId: "t1", createdAt: "2026-01-01T00:00:00Z", read: false, readAt: null },
  ],
};

describe("the app shell", () => {
  it("sends a signed-out visitor to sign-in, remembering where they were going", async () => {
    fakeApi({});
    const { router } = renderRoutes(buildRoutes(), "/customers?q=acme");
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/signin");
    expect(router.state.location.search).toBe(`?next=${encodeURIComponent("/customers?q=acme")}`);
  });

  it("shows the bell's unread count and marks all read", async () => {
    signedInAs("SALES");
    const calls = fakeApi({
      "GET /api/notifications/unread": () => unread,
      "POST /api/notifications/read-all": () => ({ updated: 2 }),
    });
    renderRoutes(buildRoutes(), "/");
    const bell = await screen.findByRole("button", { name: "Notifications: 2 unread" });
    const user = userEvent.setup();
    await user.click(bell);
    expect(await screen.findByText("Discount approved")).toBeInTheDocument();
    await user.click(await screen.findByRole("button", { name: "Mark all read" }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === "POST" && c.url.endsWith("/api/notifications/read-all"))).toBe(true),
    );
    expect(calls.some((c) => c.method === "POST" && c.url.endsWith("/api/notifications/read-all"))).toBe(true);
  });

  it("shows navigation by role and switches to Japanese", async () => {
    signedInAs("USER");
    fakeApi({ "GET /api/notifications/unread": () => ({ count: 0, items: [] }) });
    renderRoutes(buildRoutes(), "/");
    const nav = await screen.findByRole("navigation", { name: "Main navigation" });
    expect(nav).toHaveTextContent("Customers");
    expect(nav).not.toHaveTextContent("Administration");
    const user = userEvent.setup();
    await user.click(screen.getByText("日本語"));
    expect(await screen.findByRole("navigation", { name: "メインナビゲーション" })).toHaveTextContent("顧客");
  });
});
