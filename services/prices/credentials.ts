/**
 * Market-data credentials and where the market data lives. A credential is a shard: Alpaca
 * allows one stream connection per key, so each key streams its own share of the symbols.
 * @module
 */
import { createHash } from "node:crypto";
import type { PriceFeed } from "@meridian/proto";
import { type Config, registerSecret } from "@meridian/runtime";
import { DEMO_ALPACA_DATA_KEYS } from "@meridian/sandbox/data_keys";
import type { Credential } from "./market_data/mod.ts";

/** A credential with the shard id it streams as. */
export interface ShardCredential extends Credential {
  /** A stable id that names the key without revealing it (logs, KV, metrics). */
  shard: string;
}

/** The shard id of a key on a feed: a digest, so KV and logs never carry the key id. */
export function shardId(feed: PriceFeed, keyId: string): string {
  return createHash("sha256").update(`${feed}:${keyId}`).digest("hex").slice(0, 16);
}

/**
 * The stream credentials: `ALPACA_DATA_KEYS` (`id:secret,…`), else the single
 * `ALPACA_KEY_ID`/`ALPACA_SECRET_KEY`, else (with the sandbox as provider) the sandbox's demo
 * data keys, else none. Duplicated key ids count once. Every secret is registered with the
 * logger's redaction.
 */
export function dataCredentials(config: Config): ShardCredential[] {
  const pairs: Credential[] = config.ALPACA_DATA_KEYS
    ? config.ALPACA_DATA_KEYS.split(",").map((pair) => {
      const at = pair.indexOf(":");
      return { keyId: pair.slice(0, at), secret: pair.slice(at + 1) };
    })
    : config.ALPACA_KEY_ID && config.ALPACA_SECRET_KEY
    ? [{ keyId: config.ALPACA_KEY_ID, secret: config.ALPACA_SECRET_KEY }]
    : config.PROVIDERS === "sandbox"
    ? DEMO_ALPACA_DATA_KEYS.map((k) => ({ keyId: k.keyId, secret: k.secret }))
    : [];
  const seen = new Set<string>();
  const out: ShardCredential[] = [];
  for (const p of pairs) {
    registerSecret(p.secret);
    if (seen.has(p.keyId)) continue;
    seen.add(p.keyId);
    out.push({ ...p, shard: shardId(config.ALPACA_FEED, p.keyId) });
  }
  return out;
}

/**
 * The credential that reads the market clock (a trading API call): the account key
 * `ALPACA_KEY_ID` when set, else the first stream credential.
 */
export function clockCredential(config: Config, streams: readonly Credential[]): Credential | null {
  if (config.ALPACA_KEY_ID && config.ALPACA_SECRET_KEY) {
    return { keyId: config.ALPACA_KEY_ID, secret: config.ALPACA_SECRET_KEY };
  }
  return streams[0] ?? null;
}

/** Alpaca's market-data and trading endpoints: overrides, the sandbox's, or Alpaca's own. */
export function marketDataEndpoints(config: Config): {
  streamUrl: string;
  dataUrl: string;
  tradingUrl: string;
} {
  const sandbox = config.PROVIDERS === "sandbox" ? config.SANDBOX_URL.replace(/\/+$/, "") : null;
  const trim = (u: string) => u.replace(/\/+$/, "");
  return {
    streamUrl: trim(
      config.ALPACA_DATA_STREAM_URL ??
        (sandbox
          ? `${sandbox.replace(/^http/, "ws")}/alpaca-data`
          : "wss://stream.data.alpaca.markets"),
    ),
    dataUrl: trim(
      config.ALPACA_DATA_URL ??
        (sandbox ? `${sandbox}/alpaca-data` : "https://data.alpaca.markets"),
    ),
    tradingUrl: trim(
      config.ALPACA_BASE_URL ?? (sandbox ? `${sandbox}/alpaca` : "https://api.alpaca.markets"),
    ),
  };
}
