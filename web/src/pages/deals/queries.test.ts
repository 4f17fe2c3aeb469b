import { describe, expect, it } from "vitest";
import { total, type Deal } from "./queries";
import { isOverdue } from "../tasks/queries";

describe("pipeline totals", () => {
  it("add exact decimal amounts without float drift", () => {
    const deals = ["0.10", "0.20", "1200000.05", "7"].map((amount) => ({ amount }) as Deal);
    expect(total(deals)).toBe("1200007.35");
    expect(total([])).toBe("0.00");
  });
});

describe("overdue tasks", () => {
  it("are open tasks past their due date", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    expect(isOverdue({ status: "TODO", dueDate: "2026-12-01T11:00:00Z" }, now)).toBe(true);
    expect(isOverdue({ status: "COMPLETED", dueDate: "2026-12-01T11:00:00Z" }, now)).toBe(false);
    expect(isOverdue({ status: "IN_PROGRESS", dueDate: "2026-12-02T11:00:00Z" }, now)).toBe(false);
    expect(isOverdue({ status: "TODO", dueDate: null }, now)).toBe(false);
  });
});
