/** Display formatting. Amounts arrive as exact decimal strings; rounding happens only here. */
import { Exact } from "@meridian/portfolio/exact";

const money = new Map<string, Intl.NumberFormat>();

/** "$1,234.56" in the currency's own format. */
export function formatMoney(value: string | null | undefined, currency: string): string {
  if (value === null || value === undefined) return "—";
  let f = money.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch {
      f = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    money.set(currency, f);
  }
  return f.format(Number(value));
}

const compact = new Map<string, Intl.NumberFormat>();

/**
 * "$12.3K": a chart axis' tick, from the number Chart.js drew (a tick is a position on the
 * axis, not an amount anyone adds up).
 */
export function compactMoney(value: number, currency: string): string {
  let f = compact.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, {
        style: "currency",
        currency,
        notation: "compact",
        maximumFractionDigits: 1,
      });
    } catch {
      f = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
    }
    compact.set(currency, f);
  }
  return f.format(value);
}

/** "+$12.30" / "−$4.00". The sign comes from the decimal string itself. */
export function formatSignedMoney(value: string | null | undefined, currency: string): string {
  if (value === null || value === undefined) return "—";
  const t = tone(value);
  const abs = formatMoney(value.replace(/^-/, ""), currency);
  return t === "up" ? `+${abs}` : t === "down" ? `−${abs}` : abs;
}

const qty = new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 });
/** A quantity with up to 6 decimals. */
export function formatQuantity(value: string): string {
  return qty.format(Number(value));
}

/** "+1.25%" from a percentage the server already rounded ("1.25", "-0.40"). */
export function formatPercent(value: string | null | undefined): string {
  if (value === null || value === undefined) return "";
  const t = tone(value);
  return `${t === "up" ? "+" : t === "down" ? "−" : ""}${value.replace(/^-/, "")}%`;
}

/**
 * A fraction as a percentage, exactly: "0.0523" → "+5.23%" (`signed`, the default: a return)
 * or "5.23%" (a weight). Rounded half away from zero to `places`, in decimal, never through a
 * float; "—" when there is none.
 */
export function formatFraction(
  fraction: string | null | undefined,
  { signed = true, places = 2 }: { signed?: boolean; places?: number } = {},
): string {
  if (fraction === null || fraction === undefined) return "—";
  const percent = new Exact(fraction).times(100).toFixed(places, Exact.ROUND_HALF_UP);
  return signed ? formatPercent(percent) : `${percent.replace(/^-(?=0[.0]*$)/, "")}%`;
}

/**
 * A day change as two texts shown apart, "+$12.30" and "(+0.52%)": run together
 * ("+$12.30+0.52 %") they read as one number. `percent` is null when the server has none.
 */
export function dayChangeParts(
  amount: string | null | undefined,
  percent: string | null | undefined,
  currency: string,
): { amount: string; percent: string | null } {
  const pct = formatPercent(percent);
  return { amount: formatSignedMoney(amount, currency), percent: pct ? `(${pct})` : null };
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
/** "2 hours ago". */
export function timeAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(s / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(s / 3600), "hour");
  return relative.format(Math.round(s / 86400), "day");
}

/** Sign class for colouring a change, read off the decimal string (no float). */
export function tone(value: string | null | undefined): "up" | "down" | "flat" {
  if (value === null || value === undefined || !/[1-9]/.test(value)) return "flat";
  return value.startsWith("-") ? "down" : "up";
}

/** Providers whose connections are repaired by entering new API keys, not on their own pages. */
export const REPAIRED_WITH_KEYS: ReadonlySet<string> = new Set(["alpaca"]);

export const PROVIDER_NAMES: Record<string, string> = {
  snaptrade: "SnapTrade",
  plaid: "Plaid",
  alpaca: "Alpaca",
};
