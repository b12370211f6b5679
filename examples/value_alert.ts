/**
 * Prints an alert when a user's portfolio value crosses a threshold, as the read-only `values`
 * NATS user (README.md, "Subscribe to portfolio values"):
 *
 *   NATS_PASSWORD=... deno run --allow-net --allow-env examples/value_alert.ts <userId> <threshold>
 */
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { Decimal } from "decimal.js";
import { z } from "zod";

// The fields of proto/schema/PortfolioValue.json used here. Amounts are decimal strings.
const Amount = z.string().regex(/^-?\d+(\.\d+)?$/);
const Value = z.object({
  user_id: z.uuid(),
  seq: z.int().min(0),
  total: Amount,
  currency: z.string(),
});

const [userId = "", limit = ""] = Deno.args;
if (!z.uuid().safeParse(userId).success || !Amount.safeParse(limit).success) {
  console.error("usage: value_alert.ts <userId> <threshold>");
  Deno.exit(2);
}
const nc = await connect({
  servers: (Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222").split(","),
  user: Deno.env.get("NATS_USER") ?? "values",
  pass: Deno.env.get("NATS_PASSWORD"),
  inboxPrefix: "_INBOX_values", // the only inbox the values user may subscribe to
});
let lastSeq = -1;
let above: boolean | undefined; // whether the last value was at or above the threshold
function seen(text: string) {
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON: dropped below */ }
  const v = Value.safeParse(json);
  if (!v.success || v.data.user_id !== userId || v.data.seq <= lastSeq) return; // older: dropped
  lastSeq = v.data.seq;
  const now = new Decimal(v.data.total).gte(limit); // exact: never compare money as floats
  const line = `${userId} total ${v.data.total} ${v.data.currency} (seq ${v.data.seq})`;
  if (above === undefined) console.log(`value ${line}`);
  else if (now !== above) console.log(`ALERT ${line} ${now ? "reached" : "fell below"} ${limit}`);
  above = now;
}
// Subscribe first, then read the last value: nothing falls in between, and seq drops repeats.
nc.subscribe(`portfolio.value.${userId}`, {
  callback: (err, msg) => err ? console.error(err.message) : seen(msg.string()),
});
const last = await (await new Kvm(nc).open("portfolio_values")).get(userId); // key: the user id
if (last?.operation === "PUT") seen(last.string());
await nc.flush();
console.log(`watching portfolio.value.${userId} for ${limit}`);
const closed = await nc.closed();
if (closed) throw closed;
