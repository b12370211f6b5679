/**
 * Transaction types Meridian distinguishes (the `transactions.type` check constraint). No
 * dependencies, so the browser bundle can import it.
 * @module
 */
export const TRANSACTION_TYPES = [
  "buy",
  "sell",
  "dividend",
  "interest",
  "fee",
  "contribution",
  "withdrawal",
  "transfer",
  "tax",
  "reinvestment",
  "other",
] as const;
