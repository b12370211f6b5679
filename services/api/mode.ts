/**
 * The portfolio mode a user is in, derived from their connections.
 * @module
 */

/** brokerage: can trade; aggregation: read-only; hybrid: both; none: nothing connected. */
export type PortfolioMode = "brokerage" | "aggregation" | "hybrid" | "none";

/** Derives the mode from the access of each connection that is not disabled. */
export function portfolioMode(
  connections: ReadonlyArray<{ access: string; status: string }>,
): PortfolioMode {
  const live = connections.filter((c) => c.status !== "disabled");
  const trade = live.some((c) => c.access === "trade");
  const read = live.some((c) => c.access !== "trade");
  if (trade && read) return "hybrid";
  if (trade) return "brokerage";
  if (read) return "aggregation";
  return "none";
}
