import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { buildRoutes } from "../../App";
import { setSession } from "../../lib/session";
import { fakeApi, json, renderRoutes } from "../../test/render";

const user = { id: "u1", email: "rep@example.com", name: "Rep", role: "SALES", createdAt: "2026-01-01T00:00:00Z" };

describe("sign in", () => {
  it("after the session expired, says so and returns the user where they were", async () => {
    setSession(null, { expired: true });
    fakeApi({
      "POST /api/auth/login": () =>
        json({ token: "t", tokenType: "Bearer", expiresIn: 900, refreshToken: "r", refreshExpiresIn: 100, user }),
      "GET /api/notifications/unread": () => ({ count: 0, items: [] }),
      "GET /api/customers": () => ({ items: [], total: 0, limit: 20, offset: 0 }),
    });
    const { router } = renderRoutes(buildRoutes(), "/customers?size=LARGE");
    expect(await screen.findByText(/Your session has ended/)).toBeInTheDocument();
    const u = userEvent.setup();
    await u.type(screen.getByLabelText(/^Email/), "rep@example.com");
    await u.type(screen.getByLabelText(/^Password/), "Password123!");
    await u.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/customers"));
    expect(router.state.location.search).toBe("?size=LARGE");
  });

  it("shows a wrong password as one generic message, keeping the email typed", async () => {
    fakeApi({ "POST /api/auth/login": () => json({ error: "unauthorized", message: "Invalid credentials" }, 401) });
    renderRoutes(buildRoutes(), "/signin");
    const u = userEvent.setup();
    await u.type(await screen.findByLabelText(/^Email/), "rep@example.com");
    await u.type(screen.getByLabelText(/^Password/), "wrong");
    await u.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("The email or the password is wrong.")).toBeInTheDocument();
    expect(screen.getByLabelText(/^Email/)).toHaveValue("rep@example.com");
  });
});
