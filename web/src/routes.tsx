// THE route table: one entry per screen, each lazy-loaded so the first paint only downloads the shell.
// To add a screen: create src/pages/<screen>/, add a line here, and its locales in src/locales/{en,ja}/.
import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import type { Role } from "./lib/session";
import { ADMIN_AREA, REPORT_READERS } from "./lib/roles";

export interface ScreenRoute {
  path: string;
  component: LazyExoticComponent<ComponentType>;
  /** the navigation entry (i18n key in common:nav), if the screen has one */
  nav?: { label: string; icon: string };
  /** who may open it; undefined = every signed-in user */
  roles?: readonly Role[];
}

/** Screens anyone can open without signing in. */
export const publicRoutes: ScreenRoute[] = [
  { path: "/signin", component: lazy(() => import("./pages/auth/SignInPage")) },
  { path: "/register", component: lazy(() => import("./pages/auth/RegisterPage")) },
];

/** Screens inside the app shell (signed in). */
export const appRoutes: ScreenRoute[] = [
  { path: "/", component: lazy(() => import("./pages/dashboard/DashboardPage")), nav: { label: "dashboard", icon: "dashboard" } },
  { path: "/customers", component: lazy(() => import("./pages/customers/CustomersPage")), nav: { label: "customers", icon: "customers" } },
  { path: "/customers/:customerId", component: lazy(() => import("./pages/customers/CustomerDetailPage")) },
  { path: "/tasks", component: lazy(() => import("./pages/tasks/TasksPage")), nav: { label: "tasks", icon: "tasks" } },
  { path: "/meetings", component: lazy(() => import("./pages/meetings/MeetingsPage")), nav: { label: "meetings", icon: "meetings" } },
  { path: "/deals", component: lazy(() => import("./pages/deals/DealsPage")), nav: { label: "deals", icon: "deals" } },
  { path: "/approvals", component: lazy(() => import("./pages/approvals/ApprovalsPage")), nav: { label: "approvals", icon: "approvals" } },
  { path: "/reports", component: lazy(() => import("./pages/reports/ReportsPage")), nav: { label: "reports", icon: "reports" }, roles: REPORT_READERS },
  { path: "/admin", component: lazy(() => import("./pages/admin/AdminPage")), nav: { label: "admin", icon: "admin" }, roles: ADMIN_AREA },
  { path: "/notifications", component: lazy(() => import("./pages/notifications/NotificationsPage")), nav: { label: "notifications", icon: "notifications" } },
];
