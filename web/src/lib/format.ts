// Dates, numbers and money for the current language, through Intl (ja-JP: 2026/12/01, ¥1,234; en: Dec 1, 2026).
import i18n from "./i18n";

function locale(): string {
  return i18n.language === "ja" ? "ja-JP" : "en-US";
}

function toDate(value: string | Date | null | undefined): Date | null {
  if (!value) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDate(value: string | Date | null | undefined): string {
  const date = toDate(value);
  return date ? new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(date) : "—";
}

export function formatDateTime(value: string | Date | null | undefined): string {
  const date = toDate(value);
  return date ? new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(date) : "—";
}

export function formatTime(value: string | Date | null | undefined): string {
  const date = toDate(value);
  return date ? new Intl.DateTimeFormat(locale(), { timeStyle: "short" }).format(date) : "—";
}

/** A day heading: "Mon, Dec 1" / "12月1日(月)". */
export function formatDay(value: string | Date | null | undefined): string {
  const date = toDate(value);
  return date ? new Intl.DateTimeFormat(locale(), { weekday: "short", month: "short", day: "numeric" }).format(date) : "—";
}

export function formatRelative(value: string | Date | null | undefined, now = Date.now()): string {
  const date = toDate(value);
  if (!date) return "—";
  const seconds = Math.round((date.getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(seconds, "second");
}

export function formatNumber(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return new Intl.NumberFormat(locale()).format(Number(value));
}

/** Amounts come as exact decimal strings ("1234.50"); Intl formats the string without a float round trip. */
export function formatMoney(amount: string | number | null | undefined, currency = "JPY"): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const format = new Intl.NumberFormat(locale(), { style: "currency", currency });
  return format.format(amount as unknown as number); // Intl accepts decimal strings exactly
}

export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "—";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}
