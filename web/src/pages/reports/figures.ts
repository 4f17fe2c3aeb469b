// Turning report answers into chart rows. Amounts stay exact decimal strings for display; charts get numbers.
import type { SalesSummary } from "./queries";

export const STAGES = ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"] as const;

/** One row per stage (in pipeline order), one numeric column per currency; `currencies` in first-seen order. */
export function pipelineRows(summary: SalesSummary): { rows: Record<string, string | number>[]; currencies: string[] } {
  const currencies = [...new Set(summary.pipeline.map((p) => p.currency))];
  const rows = STAGES.map((stage) => {
    const row: Record<string, string | number> = { stage, count: 0 };
    for (const currency of currencies) row[currency] = 0;
    for (const p of summary.pipeline.filter((p) => p.stage === stage)) {
      row[p.currency] = Number(p.value);
      row.count = Number(row.count) + p.count;
    }
    return row;
  });
  return { rows, currencies };
}

/** Map entries as chart rows, largest first. */
export function countRows(counts: Record<string, number>): { name: string; count: number }[] {
  return Object.entries(counts)
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count);
}
