/**
 * A Meridian service run as its own process for an integration test: its `main.ts` with the
 * given environment (never the runner's), its log kept for assertions and failure messages,
 * its ops listener on a free port, and a kill that is sure to happen.
 * @module
 */
import { freePort, processEnv, stopAtExit } from "./processes.ts";

/** A running service process. */
export interface ServiceProcess {
  child: Deno.ChildProcess;
  /** The ops listener (`/readyz`, `/metrics`). */
  metricsPort: number;
  /** Everything the process wrote so far (stdout and stderr, JSON log lines). */
  output(): string;
  /** `/readyz`'s status, or 0 when nothing answers. */
  readyz(): Promise<number>;
  /** The value of one metric series (first match of `name{labels}`), or undefined. */
  metric(series: string): Promise<number | undefined>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Sends `signal` and waits for the exit (SIGKILL: as a crash would). */
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts `main` (a file URL or path of a service's main.ts) with `env` and a free METRICS_PORT. */
export function startServiceProcess(
  main: string | URL,
  env: Record<string, string>,
): ServiceProcess {
  const metricsPort = freePort();
  const path = main instanceof URL ? main.pathname : main;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path],
    clearEnv: true,
    env: processEnv({ METRICS_PORT: String(metricsPort), ...env }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const decoder = new TextDecoder();
  for (const stream of [child.stdout, child.stderr]) {
    stream.pipeTo(
      new WritableStream({
        write: (chunk) => {
          out += decoder.decode(chunk);
          if (out.length > 2_000_000) out = out.slice(-1_000_000);
        },
      }),
    ).catch(() => {});
  }
  const unregister = stopAtExit(() => {
    if (!exited) child.kill("SIGKILL");
  });
  return {
    child,
    metricsPort,
    output: () => out,
    alive: () => !exited,
    async readyz() {
      try {
        const r = await fetch(`http://127.0.0.1:${metricsPort}/readyz`, {
          signal: AbortSignal.timeout(1_000),
        });
        await r.body?.cancel();
        return r.status;
      } catch {
        return 0;
      }
    },
    async metric(series) {
      try {
        const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
          signal: AbortSignal.timeout(1_000),
        });
        const text = await r.text();
        const line = text.split("\n").find((l) => l.startsWith(series + " "));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      } catch {
        return undefined;
      }
    },
    async kill(signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
      const s = await status;
      unregister();
      return s;
    },
  };
}
