/**
 * Figures the performance cards put together from the api's, pure and exact.
 * @module
 */
import { decimalString, Exact } from "@meridian/portfolio/exact";

/**
 * Realised plus unrealised profit and loss, exactly; null when the unrealised part is unknown
 * (a total of only one part would read as the whole).
 */
export function plTotal(realized: string, unrealized: string | null): string | null {
  return unrealized === null ? null : decimalString(new Exact(realized).plus(unrealized));
}
