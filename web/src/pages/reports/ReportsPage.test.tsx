import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { buildRoutes } from "../../App";
import { isoDay } from "../../lib/days";
import { setLanguage } from "../../lib/i18n";
import { fakeApi, json, renderRoutes, renderWithProviders, signedInAs } from "../../test/render";
import ReportsPage from "./ReportsPage";

const day = (offset: number) => isoDay(new Date(Date.now() + offset * 86_400_000));
const reports = {
  "GET /api/reports/sales-summary": () => ({
    pipeline: [
      { stage: "PROPOSAL", currency: "JPY", count: 2, value: "1500000" },
      { stage: "WON", currency: "JPY", count: 1, value: "1234567" },
    ],
    openValue: [{ currency: "JPY", value: "1500000" }],
    dealsWon: 1,
    dealsLost: 3,
    winRate: 0.25,
    valueWon: [{ currency: "JPY", value: "1234567" }],
  }),
  "GET /api/reports/customers": () => ({
    total: 1234,
    deleted: 2,
    restored: 1,
    byIndustry: { Technology: 3, Retail: 1 },
    bySize: { SMALL: 2, LARGE: 2 },
    createdPerDay: [
      { day: day(-20), count: 5 },
      { day: day(-3), count: 2 },
      { day: day(0), count: 1 },
    ],
  }),
  "GET /api/reports/approvals": () => ({ total: 4, byStatus: { PENDING: 1, APPROVED: 2, REJECTED: 1 }, decided: 3, averageDecisionHours: 5.25 }),
  "GET /api/reports/tasks": () => ({ created: 10, completed: 6, cancelled: 1, open: 3, overdue: 1, completionRate: 0.6, byPriority: { HIGH: { created: 4, completed: 3, cancelled: 0, open: 1, overdue: 1 }, LOW: { created: 6, completed: 3, cancelled: 1, open: 2, overdue: 0 } }, byKind: { FIRST_CONTACT: { created: 3, completed: 2, cancelled: 0, open: 1, overdue: 0 } } }),
};

describe("ReportsPage", () => {
  it("shows the four reports with figures formatted for the language", async () => {
    signedInAs("MANAGER");
    fakeApi(reports);
    renderWithProviders(<ReportsPage />, "/reports");
    expect(await screen.findByTestId("win-rate")).toHaveTextContent("25%");
    expect(screen.getByTestId("value-won")).toHaveTextContent("¥1,234,567");
    expect(await screen.findByTestId("completion-rate")).toHaveTextContent("60%");
    expect(await screen.findByTestId("customers-total")).toHaveTextContent("1,234");
    expect(await screen.findByTestId("average-decision")).toHaveTextContent("5.3 h");
    expect(screen.getByRole("img", { name: /Pipeline value by stage: Proposal: ¥1,500,000 \(2 deals\)/ })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: /Approvals by status: Approved: 2/ })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Tasks by priority: High: 3 of 4 completed, Low: 3 of 6 completed" })).toBeInTheDocument();
  });

  it("draws every chart once the lazily loaded chart module has arrived", async () => {
    signedInAs("MANAGER");
    fakeApi(reports);
    const { container } = renderWithProviders(<ReportsPage />, "/reports");
    const tasks = await screen.findByRole("img", { name: /^Tasks by priority/ }); // the figures, before any chart
    await waitFor(() => expect(tasks.querySelector(".mantine-BarChart-root")).not.toBeNull(), { timeout: 15_000 }); // the chunk came
    await waitFor(() => expect(screen.queryAllByTestId("chart-loading")).toHaveLength(0));
    expect(container.querySelectorAll(".recharts-responsive-container")).toHaveLength(6); // every chart drawn
  });

  it("passes the screen's period to every report request, from the URL and from the presets", async () => {
    signedInAs("MANAGER");
    const calls = fakeApi(reports);
    const periods = (since: number) =>
      calls
        .slice(since)
        .map((c) => new URL(c.url))
        .filter((u) => u.pathname.startsWith("/api/reports/"))
        .map((u) => `${u.pathname.slice("/api/reports/".length)} ${u.searchParams.get("from")}..${u.searchParams.get("to")}`)
        .sort();
    const each = (range: string) => ["approvals", "customers", "sales-summary", "tasks"].map((r) => `${r} ${range}`);
    renderWithProviders(<ReportsPage />, "/reports");
    await waitFor(() => expect(periods(0)).toEqual(each(`${day(-29)}..${day(0)}`))); // the default: the last 30 days
    expect(await screen.findByTestId("customers-created")).toHaveTextContent("1,236"); // created = still here + deleted

    const user = userEvent.setup();
    let before = calls.length;
    await user.click(screen.getByText("Last 7 days"));
    await waitFor(() => expect(periods(before)).toEqual(each(`${day(-6)}..${day(0)}`)));
    expect(screen.getByLabelText("From")).toHaveValue(day(-6));

    before = calls.length;
    await user.click(screen.getByText("All time"));
    await waitFor(() => expect(periods(before)).toEqual(each("null..null")));
    expect(screen.getByLabelText("From")).toHaveValue("");
    expect(await screen.findByTestId("customers-created")).toHaveTextContent("1,236");
    expect(screen.getByText("Created (all time)")).toBeInTheDocument();
  });

  it("reads the period from a link, and an end typed before the start moves the start along", async () => {
    signedInAs("ADMIN");
    const calls = fakeApi(reports);
    const asked = () => calls.map((c) => new URL(c.url)).filter((u) => u.pathname === "/api/reports/tasks").map((u) => u.search);
    renderWithProviders(<ReportsPage />, "/reports?from=2026-01-01&to=2026-03-31");
    await waitFor(() => expect(asked()).toContain("?from=2026-01-01&to=2026-03-31"));
    expect(screen.getByLabelText("To")).toHaveValue("2026-03-31");
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-12-15" } });
    await waitFor(() => expect(asked()).toContain("?from=2025-12-15&to=2025-12-15"));
    expect(screen.getByLabelText("From")).toHaveValue("2025-12-15");
  });

  it("shows Japanese numbers and labels", async () => {
    signedInAs("ADMIN");
    setLanguage("ja");
    try {
      fakeApi(reports);
      renderWithProviders(<ReportsPage />, "/reports");
      expect(await screen.findByRole("heading", { name: "売上サマリー" })).toBeInTheDocument();
      expect(await screen.findByTestId("value-won")).toHaveTextContent("￥1,234,567");
      expect(screen.getByTestId("average-decision")).toHaveTextContent("5.3 時間");
    } finally {
      setLanguage("en");
    }
  });

  it("shows one report's failure with a retry while the others load", async () => {
    signedInAs("COMPLIANCE");
    fakeApi({ ...reports, "GET /api/reports/approvals": () => json({ error: "unavailable", message: "Read model rebuilding" }, 503) });
    renderWithProviders(<ReportsPage />, "/reports");
    const card = await screen.findByRole("region", { name: "Approval statistics" });
    expect(await within(card).findByText(/Read model rebuilding/)).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Retry" })).toBeInTheDocument();
    expect(await screen.findByTestId("win-rate")).toHaveTextContent("25%");
  });

  it("keeps SALES out: no navigation entry and a 403 page at the URL", async () => {
    signedInAs("SALES");
    const calls = fakeApi({ "GET /api/notifications/unread": () => ({ count: 0, items: [] }) });
    renderRoutes(buildRoutes(), "/reports");
    expect(await screen.findByRole("alert")).toHaveTextContent("Not allowed");
    expect(screen.getByRole("navigation", { name: "Main navigation" })).not.toHaveTextContent("Reports");
    expect(calls.some((c) => c.url.includes("/api/reports"))).toBe(false);
  });
});
