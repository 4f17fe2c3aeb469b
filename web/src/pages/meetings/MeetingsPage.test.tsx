import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../lib/errors";
import { fakeApi, json, renderWithProviders, signedInAs } from "../../test/render";
import { MeetingForm } from "./MeetingForm";
import MeetingsPage from "./MeetingsPage";
import { isoDay, startOfWeek } from "../../lib/days";

const customer = { id: "c1", name: "Acme", email: null, phone: null, industry: null, size: null, ownerId: "u1", createdBy: "u1", createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z", deletedAt: null };

function meeting(id: string, startsAt: string, over: Record<string, unknown> = {}) {
  return { id, customerId: "c1", opportunityId: null, ownerId: "u1", title: `Meeting ${id}`, startsAt, endsAt: null, summary: null, attendees: [], notes: null, location: null, status: "SCHEDULED" as "SCHEDULED" | "COMPLETED" | "CANCELLED", createdAt: startsAt, updatedAt: startsAt, ...over };
}

const page = (items: unknown[]) => ({ items, total: items.length, limit: 20, offset: 0 });
const common = { "GET /api/customers/c1": () => customer, "GET /api/customers": () => page([customer]) };

describe("MeetingsPage", () => {
  it("lists upcoming meetings from today, filters on the server, and shows the empty state", async () => {
    signedInAs("SALES");
    const calls = fakeApi({ ...common, "GET /api/meetings": () => page([meeting("m1", "2030-01-02T10:00:00Z")]) });
    renderWithProviders(<MeetingsPage />, "/meetings");
    expect(await screen.findByText("Meeting m1")).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "Acme" })).toHaveAttribute("href", "/customers/c1");
    const first = new URL(calls.find((c) => c.url.includes("/api/meetings"))!.url);
    expect(new Date(first.searchParams.get("from")!).getTime()).toBe(new Date(new Date().setHours(0, 0, 0, 0)).getTime());
    fakeApi({ ...common, "GET /api/meetings": () => page([]) });
    const user = userEvent.setup();
    await user.clear(screen.getByLabelText("To"));
    await user.type(screen.getByLabelText("To"), "2030-01-31");
    expect(await screen.findByText("No meetings in this period.")).toBeInTheDocument();
  });

  it("shows a failed load with a retry", async () => {
    signedInAs("SALES");
    fakeApi({ ...common, "GET /api/meetings": () => json({ error: "boom", message: "Database unavailable" }, 503) });
    renderWithProviders(<MeetingsPage />, "/meetings");
    expect(await screen.findByText(/Database unavailable/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });

  it("puts a week's meetings on their days and moves week by week", async () => {
    signedInAs("SALES");
    const monday = startOfWeek(new Date());
    const wednesday = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 2, 9, 30);
    const calls = fakeApi({ ...common, "GET /api/meetings": () => page([meeting("m2", wednesday.toISOString())]) });
    renderWithProviders(<MeetingsPage />, "/meetings?view=week");
    const days = await screen.findAllByRole("region");
    expect(days).toHaveLength(7);
    expect(await within(days[2]).findByRole("button", { name: /Meeting m2/ })).toBeInTheDocument();
    expect(within(days[0]).getByText("No meetings")).toBeInTheDocument();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Next week" }));
    const next = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 7);
    await waitFor(() => expect(calls.some((c) => new URL(c.url).searchParams.get("from") === next.toISOString())).toBe(true));
  });

  it("moves between days with the arrow keys and opens a day's new-meeting form with Enter", async () => {
    signedInAs("SALES");
    fakeApi({ ...common, "GET /api/meetings": () => page([]) });
    renderWithProviders(<MeetingsPage />, "/meetings?view=week");
    const adds = await screen.findAllByRole("button", { name: /^New meeting on / });
    adds[1].focus();
    const user = userEvent.setup();
    await user.keyboard("{ArrowLeft}");
    expect(adds[0]).toHaveFocus();
    await user.keyboard("{ArrowRight}{ArrowRight}");
    expect(adds[2]).toHaveFocus();
    await user.keyboard("{ArrowLeft}{ArrowLeft}{Enter}");
    const form = await screen.findByRole("form", { name: "New meeting" });
    expect(within(form).getByLabelText(/Starts/)).toHaveValue(`${isoDay(startOfWeek(new Date()))}T10:00`);
  });

  it("lets a MANAGER narrow everyone's meetings to their own", async () => {
    signedInAs("MANAGER", "m9");
    const calls = fakeApi({ ...common, "GET /api/meetings": () => page([meeting("m1", "2030-01-02T10:00:00Z", { ownerId: "u2" })]) });
    renderWithProviders(<MeetingsPage />, "/meetings");
    expect(await screen.findByRole("button", { name: "Edit Meeting m1" })).toBeInTheDocument(); // a MANAGER may change any
    const user = userEvent.setup();
    await user.click(screen.getByLabelText("Only mine"));
    await waitFor(() => expect(calls.some((c) => new URL(c.url).searchParams.get("ownerId") === "m9")).toBe(true));
  });

  it("hides scheduling, editing and cancelling from COMPLIANCE (read-only)", async () => {
    signedInAs("COMPLIANCE");
    fakeApi({ ...common, "GET /api/meetings": () => page([meeting("m1", "2030-01-02T10:00:00Z", { ownerId: "u2" })]) });
    renderWithProviders(<MeetingsPage />, "/meetings");
    expect(await screen.findByText("Meeting m1")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New meeting" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit Meeting m1" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Cancel Meeting m1" })).not.toBeInTheDocument();
  });

  it("gives SALES no owner switch (they only see their own)", async () => {
    signedInAs("SALES");
    fakeApi({ ...common, "GET /api/meetings": () => page([]) });
    renderWithProviders(<MeetingsPage />, "/meetings");
    expect(await screen.findByText("No meetings in this period.")).toBeInTheDocument();
    expect(screen.queryByLabelText("Only mine")).not.toBeInTheDocument();
  });

  it("cancels a meeting after confirming", async () => {
    signedInAs("SALES");
    const calls = fakeApi({
      ...common,
      "GET /api/meetings": () => page([meeting("m1", "2030-01-02T10:00:00Z")]),
      "DELETE /api/meetings/m1": () => new Response(null, { status: 204 }),
    });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    renderWithProviders(<MeetingsPage />, "/meetings");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Cancel Meeting m1" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.endsWith("/api/meetings/m1"))).toBe(true));
  });
});

describe("MeetingForm", () => {
  it("shows a 422 beside its field and keeps what was typed", async () => {
    fakeApi(common);
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, { error: "validation_error", message: "Invalid input", fields: { endsAt: "must not be before startsAt" } }, ""),
    );
    renderWithProviders(<MeetingForm meeting={meeting("m1", "2030-01-02T10:00:00Z")} onSubmit={onSubmit} onCancel={() => {}} />);
    const user = userEvent.setup();
    const ends = await screen.findByLabelText("Ends");
    await user.type(screen.getByLabelText("Attendees", { selector: "input" }), "Kenji{Enter}");
    await user.type(ends, "2030-01-01T09:00");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("must not be before startsAt")).toBeInTheDocument();
    expect(ends).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText(/Title/)).toHaveValue("Meeting m1");
    expect(onSubmit).toHaveBeenCalledWith(
      expect.objectContaining({ customerId: "c1", endsAt: new Date("2030-01-01T09:00").toISOString(), status: "SCHEDULED", attendees: ["Kenji"], notes: null }),
    );
  });

  it("asks for the required fields before sending", async () => {
    fakeApi(common);
    const onSubmit = vi.fn();
    renderWithProviders(<MeetingForm onSubmit={onSubmit} onCancel={() => {}} />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Save" }));
    expect(await screen.findByText("Choose a customer")).toBeInTheDocument();
    expect(screen.getByText("A title is required")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });
});
