/**
 * Pre-trade risk checks (SEC Rule 15c3-5's "credit or capital thresholds" and "erroneous"
 * orders): a notional cap per order and per day, and a price collar around the last price.
 * Pure; the numbers come from configuration and the order store.
 * @module
 */
import { Exact as Decimal } from "@meridian/portfolio/exact";

/** The limits every order is held to. */
export interface RiskLimits {
  /** Largest estimated amount of one order, in the account's currency. */
  maxOrderNotional: string;
  /** Largest estimated amount of one user's orders in one UTC day. */
  maxDailyNotional: string;
  /** How far (percent) a limit or stop price may be from the last price. */
  collarPercent: string;
}

/** The defaults: generous for a person, small enough to stop a runaway script. */
export const DEFAULT_RISK_LIMITS: RiskLimits = {
  maxOrderNotional: "25000",
  maxDailyNotional: "100000",
  collarPercent: "10",
};

/** Why an order is refused, worded for the person placing it. */
export interface RiskRefusal {
  code: "order_cap" | "daily_cap" | "price_collar";
  message: string;
}

/** What the checks read of an order. */
export interface RiskInput {
  /** Estimated amount of the order (units × price), in the account's currency. */
  estimatedAmount: string;
  /** Estimated amounts of the user's orders already placed today. */
  placedToday: string;
  lastPrice: string | null;
  limitPrice: string | null;
  stopPrice: string | null;
}

const money = (d: Decimal) => d.toDecimalPlaces(2).toFixed(2);

/** The first limit the order breaks, or null when it keeps them all. */
export function checkRisk(
  input: RiskInput,
  limits: RiskLimits = DEFAULT_RISK_LIMITS,
): RiskRefusal | null {
  const amount = new Decimal(input.estimatedAmount);
  if (amount.gt(limits.maxOrderNotional)) {
    return {
      code: "order_cap",
      message: `This order (about ${money(amount)}) is above the limit of ${
        money(new Decimal(limits.maxOrderNotional))
      } per order.`,
    };
  }
  const day = amount.plus(input.placedToday);
  if (day.gt(limits.maxDailyNotional)) {
    const left = Decimal.max(0, new Decimal(limits.maxDailyNotional).minus(input.placedToday));
    return {
      code: "daily_cap",
      message: `This order would take today's orders above the daily limit of ${
        money(new Decimal(limits.maxDailyNotional))
      }; ${money(left)} is left today.`,
    };
  }
  if (input.lastPrice !== null) {
    const last = new Decimal(input.lastPrice);
    const band = last.mul(limits.collarPercent).div(100);
    for (const [name, price] of [["limit", input.limitPrice], ["stop", input.stopPrice]] as const) {
      if (price === null) continue;
      if (new Decimal(price).minus(last).abs().gt(band)) {
        return {
          code: "price_collar",
          message:
            `The ${name} price ${price} is more than ${limits.collarPercent}% away from the last price ${last.toFixed()}; this looks like a mistake, so it was not sent.`,
        };
      }
    }
  }
  return null;
}
