/**
 * A throwaway nats-server with JetStream in a temporary directory on a free port.
 * @module
 */
import {
  findExecutable,
  freePort,
  isAlive,
  run,
  stopAtExit,
  waitForPort,
  waitForPortClosed,
  whenTestProcessGone,
} from "./processes.ts";

/** A running test nats-server. */
export interface TestNats {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM); `restart` brings it back with the same data. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and removes its data. */
  close(): Promise<void>;
}

/** Options: an optional config file body (`port`, `jetstream` are added for you). */
export interface TestNatsOptions {
  config?: string;
}

/** Starts a nats-server with JetStream; the caller closes it. */
export async function startNats(opts: TestNatsOptions = {}): Promise<TestNats> {
  const bin = findExecutable("nats-server", ["/usr/sbin", "/usr/local/bin"]);
  const dir = await Deno.makeTempDir({ prefix: "meridian-nats-" });
  const port = freePort();
  const conf = `${dir}/nats.conf`;
  await Deno.writeTextFile(
    conf,
    `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${dir}/js" }\n${opts.config ?? ""}\n`,
  );
  const pidFile = `${dir}/nats.pid`;
  let pid = 0;
  const start = async () => {
    await run("sh", ["-c", `"${bin}" -c "${conf}" -P "${pidFile}" >"${dir}/nats.log" 2>&1 &`]);
    await waitForPort(port);
    pid = Number((await Deno.readTextFile(pidFile)).trim());
  };
  const signal = async (sig: Deno.Signal) => {
    if (pid && isAlive(pid)) Deno.kill(pid, sig);
    await waitForPortClosed(port);
    for (let i = 0; i < 200 && pid && isAlive(pid); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await start();
  await whenTestProcessGone(`kill -9 "$(cat "${pidFile}")"; rm -rf "${dir}"`);
  const unregister = stopAtExit(() => {
    if (pid && isAlive(pid)) Deno.kill(pid, "SIGKILL");
    Deno.removeSync(dir, { recursive: true });
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    restart: start,
    close: async () => {
      await signal("SIGTERM");
      unregister();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
