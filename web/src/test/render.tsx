// Renders a piece of the app with its providers and a fake API (routes → JSON answers).
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider, type RouteObject } from "react-router";
import { Providers } from "../App";
import { setFetch } from "../lib/api";
import { setSession, type Session } from "../lib/session";

export type Handler = (request: Request) => unknown | Response | Promise<unknown | Response>;

/** `"GET /api/customers": () => ({items: []})`; unmatched requests answer 404 and are recorded. */
export function fakeApi(handlers: Record<string, Handler>) {
  const calls: Request[] = [];
  setFetch(async (input, init) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    calls.push(request.clone());
    const path = new URL(request.url, "http://localhost").pathname;
    const handler = handlers[`${request.method} ${path}`];
    if (!handler) return json({ error: "not_found", message: `no fake for ${request.method} ${path}` }, 404);
    const result = await handler(request);
    return result instanceof Response ? result : json(result, request.method === "POST" ? 201 : 200);
  });
  return calls;
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function signedInAs(role: Session["user"]["role"], id = "u1"): Session {
  const session: Session = {
    token: "token",
    refreshToken: "refresh",
    expiresAt: Date.now() + 15 * 60_000,
    user: { id, email: `${id}@example.com`, name: `Test ${role}`, role, createdAt: "2026-01-01T00:00:00Z" },
  };
  setSession(session);
  return session;
}

export function renderRoutes(routes: RouteObject[], path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  return { router, ...render(<Providers><RouterProvider router={router} /></Providers>) };
}

export function renderWithProviders(ui: ReactNode, path = "/") {
  return renderRoutes([{ path: "*", element: ui }], path);
}
