/**
 * The relay's load: distinct SnapTrade webhooks signed with the benchmark's consumer key, sent
 * by the raw HTTP/1.1 generator of `load.ts`; unsigned (401) requests open the connections and
 * warm the JIT on both ends first.
 * @module
 */
import { snaptradeBody, snaptradeSignature } from "../../services/relay/test_signing.ts";
import { type LoadResult, runLoad } from "./load.ts";

/** The SnapTrade consumer key the benchmarks' relays verify with. */
export const BENCH_CONSUMER_KEY = "bench-consumer-key";

/** Sends `n` signed webhooks to `url`: closed loop (`conc` in flight) or open at `rate`/s. */
export async function webhookLoad(
  url: string,
  mode: "closed" | "open",
  n: number,
  rate: number,
  conc: number,
): Promise<LoadResult> {
  const enc = new TextEncoder();
  const path = new URL(url).pathname;
  const requests = await Promise.all(Array.from({ length: n }, async () => {
    const body = snaptradeBody();
    const sig = await snaptradeSignature(body, BENCH_CONSUMER_KEY);
    return {
      body: enc.encode(body),
      headers: `Content-Type: application/json\r\nSignature: ${sig}\r\n`,
    };
  }));
  const warm = enc.encode("{}");
  return await runLoad({
    url,
    mode,
    n,
    rate,
    conc,
    warmup: Math.max(conc, 16),
    send: (client, i) =>
      i < 0
        ? client.request("POST", path, "Content-Type: application/json\r\n", warm)
        : client.request("POST", path, requests[i].headers, requests[i].body),
  });
}
