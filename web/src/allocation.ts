/**
 * The allocation chart's slices, pure: what the doughnut draws (the largest slices, the rest
 * as one "Other", nothing negative), each slice's colour, and the query.
 * @module
 */
import { decimalString, Exact } from "@meridian/portfolio/exact";
import type { AllocationBy, AllocationSlice } from "./history_schema.ts";

/** Colours for slices and series, distinct from one another and readable on white. */
export const PALETTE: readonly string[] = [
  "#1565a8",
  "#e07b00",
  "#0b8a5b",
  "#b3261e",
  "#6b4fbb",
  "#00838f",
  "#c2185b",
  "#7a6a00",
  "#5d7387",
];
/** The colour of "Other". */
export const OTHER_COLOR = "#aab4bf";

export const BY_LABELS: Record<AllocationBy, string> = {
  asset_class: "Asset class",
  account: "Account",
  currency: "Currency",
  instrument: "Instrument",
};

/** `GET /api/allocation` grouped `by`. */
export function allocationPath(by: AllocationBy): string {
  return `/api/allocation?by=${by}`;
}

/** One slice as drawn. */
export interface DrawnSlice {
  label: string;
  value: string;
  weight: string;
  color: string;
}

/** What the doughnut draws, and the colour of each listed slice (by key). */
export interface DrawnAllocation {
  drawn: DrawnSlice[];
  colors: ReadonlyMap<string, string>;
  /** Slices whose value is negative or zero (margin debt, say): listed, never drawn. */
  undrawn: AllocationSlice[];
}

/**
 * The slices the doughnut draws: the positive ones, largest first, at most `max`; beyond that
 * the smallest are drawn together as "Other (N)", with their exact sums. A doughnut cannot show
 * a negative share, so those are left to the table, which lists every slice.
 */
export function drawnAllocation(slices: readonly AllocationSlice[], max = 8): DrawnAllocation {
  const positive: AllocationSlice[] = [];
  const undrawn: AllocationSlice[] = [];
  for (const s of slices) (new Exact(s.value).gt(0) ? positive : undrawn).push(s);
  positive.sort((a, b) => new Exact(b.value).comparedTo(a.value));
  const shown = positive.length > max ? positive.slice(0, max - 1) : positive;
  const rest = positive.slice(shown.length);
  const colors = new Map<string, string>();
  const drawn: DrawnSlice[] = shown.map((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    colors.set(s.key, color);
    return { label: s.label, value: s.value, weight: s.weight, color };
  });
  if (rest.length) {
    let value = new Exact(0), weight = new Exact(0);
    for (const s of rest) {
      value = value.plus(s.value);
      weight = weight.plus(s.weight);
      colors.set(s.key, OTHER_COLOR);
    }
    drawn.push({
      label: `Other (${rest.length})`,
      value: decimalString(value),
      weight: decimalString(weight),
      color: OTHER_COLOR,
    });
  }
  return { drawn, colors, undrawn };
}
