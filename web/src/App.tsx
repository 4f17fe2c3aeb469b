import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { createBrowserRouter, RouterProvider, type RouteObject } from "react-router";
import { AppLayout } from "./components/AppLayout";
import { RequireAuth } from "./components/RequireAuth";
import { RoleGate } from "./components/RoleGate";
import { Suspended } from "./components/Suspended";
import { NotFound } from "./components/NotFound";
import { makeQueryClient } from "./lib/queryClient";
import { appRoutes, publicRoutes } from "./routes";
import { theme } from "./theme";

export function buildRoutes(): RouteObject[] {
  return [
    ...publicRoutes.map(({ path, component: Screen }) => ({ path, element: <Suspended><Screen /></Suspended> })),
    {
      element: (
        <RequireAuth>
          <AppLayout />
        </RequireAuth>
      ),
      children: [
        ...appRoutes.map(({ path, component: Screen, roles }) => ({
          path,
          element: (
            <RoleGate roles={roles}>
              <Suspended>
                <Screen />
              </Suspended>
            </RoleGate>
          ),
        })),
        { path: "*", element: <NotFound /> },
      ],
    },
  ];
}

export function Providers({ children }: { children: React.ReactNode }) {
  const [client] = useState(makeQueryClient);
  return (
    <MantineProvider theme={theme} env={import.meta.env.MODE === "test" ? "test" : "default"}>
      <Notifications position="top-right" />
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </MantineProvider>
  );
}

export function App() {
  const [router] = useState(() => createBrowserRouter(buildRoutes()));
  return (
    <Providers>
      <RouterProvider router={router} />
    </Providers>
  );
}
