/**
 * Who may use Alpaca's market data (the data streams and the snapshots): every account key, as on
 * Alpaca, plus a few demo keys that only read market data, so several stream connections (one per
 * key, as Alpaca allows) can run side by side.
 * @module
 */

import type { Broker } from "./broker.ts";

/** A market-data key pair. */
export interface DataKey {
  keyId: string;
  secret: string;
}

/** Demo keys for market data only (the data streams and snapshots, not trading). */
export const DEMO_ALPACA_DATA_KEYS: readonly DataKey[] = [1, 2, 3].map((n) => ({
  keyId: `PKDATA0000000000000${n}`,
  secret: `demo-alpaca-data-secret-000000000000000${n}`,
}));

/**
 * The key id `key`/`secret` authenticate for market data (an account key that is not broken, or
 * a demo data key), else `undefined`.
 */
export function authenticateData(
  broker: Broker,
  key: unknown,
  secret: unknown,
): string | undefined {
  if (typeof key !== "string" || typeof secret !== "string") return undefined;
  const acct = broker.authenticate(key, secret);
  if (acct) return acct.key_id;
  return DEMO_ALPACA_DATA_KEYS.some((k) => k.keyId === key && k.secret === secret)
    ? key
    : undefined;
}
