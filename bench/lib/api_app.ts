/**
 * The api app wired as services/api/main.ts wires it, for a benchmark's api process (the
 * benchmarks call no connection route).
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import { connectDb, connectNats, createLogger, Keyring, parseConfig } from "@meridian/runtime";
import { createApp } from "../../services/api/app.ts";
import { connectionsPort } from "../../services/api/connections.ts";

/** The app of a benchmark's api on `port`, against `dbUrl` and `natsUrl`. */
export async function benchApiApp(name: string, port: number, dbUrl: string, natsUrl: string) {
  const log = createLogger(name, "error");
  const sql = connectDb(dbUrl, { max: 10, name });
  const nats = await connectNats({ url: natsUrl, name, log });
  const config = parseConfig({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SECRETS_KEYRING: Keyring.generateSpec("bench"),
  });
  return createApp({
    sql,
    js: jetstream(nats.nc),
    nc: nats.nc,
    log,
    config,
    connections: await connectionsPort({ sql, nc: nats.nc, config, log }),
    webDist: "/nonexistent",
  });
}
