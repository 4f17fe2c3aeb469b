import { describe, expect, it } from "vitest";
import { countRows, pipelineRows } from "./figures";

describe("report figures", () => {
  it("puts the pipeline in stage order with a column per currency", () => {
    const { rows, currencies } = pipelineRows({
      pipeline: [
        { stage: "PROPOSAL", currency: "JPY", count: 2, value: "1500000" },
        { stage: "LEAD", currency: "USD", count: 1, value: "2500.50" },
        { stage: "PROPOSAL", currency: "USD", count: 1, value: "100" },
      ],
      openValue: [],
      dealsWon: 0,
      dealsLost: 0,
      winRate: null,
      valueWon: [],
    });
    expect(currencies).toEqual(["JPY", "USD"]);
    expect(rows[0]).toEqual({ stage: "LEAD", count: 1, JPY: 0, USD: 2500.5 });
    expect(rows[2]).toEqual({ stage: "PROPOSAL", count: 3, JPY: 1500000, USD: 100 });
    expect(rows.map((r) => r.stage)).toEqual(["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"]);
  });

  it("sorts counts largest first", () => {
    expect(countRows({ SMALL: 1, LARGE: 5 })).toEqual([{ name: "LARGE", count: 5 }, { name: "SMALL", count: 1 }]);
  });
});
