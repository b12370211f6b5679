import assert from "node:assert/strict";
import {
  eventually,
  freePort,
  processEnv,
  startNats,
  testCluster,
} from "@meridian/runtime/testing";

const ROOT = new URL("..", import.meta.url).pathname;

function freePortRun(n: number): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * 22_000); // below the ephemeral range
    try {
      const listeners = Array.from(
        { length: n },
        (_, i) => Deno.listen({ hostname: "127.0.0.1", port: base + i + 1 }),
      );
      listeners.forEach((l) => l.close());
      return base;
    } catch {
      // taken; try another run
    }
  }
  throw new Error("no run of free ports");
}

/** `HOST`, which shells and CI runners export for themselves, must not matter. */
const STRAY_HOST = { HOST: "203.0.113.7" };

async function readyz(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
      signal: AbortSignal.timeout(1_000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/** Waits on `fn` for up to `timeoutMs`, failing with `context` (the supervisor's output). */
async function until(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs: number,
  context: () => string = () => "",
): Promise<void> {
  await eventually(fn, { timeoutMs, intervalMs: 200, what }).catch((e) => {
    throw new Error(`${e.message}${context()}`);
  });
}

/** The supervisor's last lines, so a failure on a CI machine says what each service was doing. */
function tail(output: string, lines = 80): string {
  return `\n--- last supervisor output ---\n${output.split("\n").slice(-lines).join("\n")}`;
}

Deno.test("an unreachable NATS_URL exits 2 with one line", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/up.ts"],
    cwd: ROOT,
    env: processEnv({ ...STRAY_HOST, NATS_URL: "nats://127.0.0.1:1" }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 2);
  assert.equal(stderr.split("\n").length, 1);
  assert.match(stderr, /NATS_URL/);
});

/** A running `make up` against throwaway NATS and PostgreSQL, on ports of its own. */
interface Up {
  child: Deno.ChildProcess;
  nats: Awaited<ReturnType<typeof startNats>>;
  ports: { api: number; relay: number; sandbox: number; metricsBase: number };
  /** Every service's ops port. */
  opsPorts: number[];
  output(): string;
  /** Waits until the supervisor reports every service ready. */
  ready(): Promise<void>;
  /** Stops what is still running and removes the temporary files. */
  close(): Promise<void>;
}

async function startUp(): Promise<Up> {
  const nats = await startNats();
  const pg = await testCluster();
  const db = `up_${crypto.randomUUID().slice(0, 8).replace(/-/g, "")}`;
  const metricsBase = freePortRun(7);
  const ports = { api: freePort(), relay: freePort(), sandbox: freePort(), metricsBase };
  const data = await Deno.makeTempDir({ prefix: "meridian-up-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/up.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: processEnv({
      ...STRAY_HOST,
      NATS_URL: nats.url,
      DATABASE_URL: pg.url(db),
      API_PORT: String(ports.api),
      RELAY_PORT: String(ports.relay),
      SANDBOX_PORT: String(ports.sandbox),
      UP_METRICS_PORT_BASE: String(metricsBase),
      RELAY_OUTBOX_PATH: `${data}/outbox.sqlite`,
      SECRETS_KEYRING: "test1:" + btoa(String.fromCharCode(...new Uint8Array(32))),
    }),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = (s: ReadableStream<Uint8Array>) =>
    s.pipeTo(new WritableStream({ write: (c) => void (output += new TextDecoder().decode(c)) }));
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  child.status.then(() => exited = true);
  return {
    child,
    nats,
    ports,
    opsPorts: [
      ports.api,
      ports.relay,
      ports.sandbox,
      ...[1, 2, 3, 4, 5, 6, 7].map((i) => metricsBase + i),
    ],
    output: () => output,
    async ready() {
      // Waits past the 60 s target so that a slow start fails with the supervisor's output.
      await until(
        "all services ready",
        () => output.includes("services ready in"),
        120_000,
        () => tail(output),
      );
      const readyIn = Number(/services ready in ([\d.]+) s/.exec(output)?.[1]);
      assert.ok(readyIn <= 60, `all services ready within 60 s (took ${readyIn} s)${tail(output)}`);
    },
    async close() {
      if (!exited) {
        // SIGINT lets the supervisor stop its services.
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await child.status;
        clearTimeout(timer);
      }
      await drained.catch(() => {});
      await nats.close();
      await Deno.remove(data, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("make up: every service ready, not ready without NATS, recovers, stops cleanly on Ctrl-C", async () => {
  const up = await startUp();
  const { child, nats, ports, opsPorts, output } = up;
  const base = ports.metricsBase;
  try {
    await up.ready();
    for (const p of opsPorts) assert.equal(await readyz(p), 200, `service on ${p} not ready`);
    const health = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
    assert.equal((await health.json()).status, "ok");
    // Metrics only on the private listeners (base + 6 and + 7), never on the public ports.
    for (const p of [ports.api, ports.relay]) {
      const res = await fetch(`http://127.0.0.1:${p}/metrics`);
      assert.doesNotMatch(await res.text(), /^# HELP/m, `/metrics served on public port ${p}`);
    }
    for (const p of [base + 6, base + 7]) {
      const res = await fetch(`http://127.0.0.1:${p}/metrics`);
      assert.match(await res.text(), /^# HELP/m, `no metrics on ${p}`);
    }
    assert.match(output(), /\[api\] /, "log lines are prefixed by their service");
    assert.match(output(), /demo@example.com/);

    await nats.stop();
    await until(
      "services not ready without NATS",
      async () => (await readyz(base + 2)) === 503,
      30_000,
      () => tail(output()),
    );
    // The relay keeps accepting webhooks into its durable outbox while NATS is down, and the
    // sandbox (the providers' stand-in) never uses NATS; every other service needs it.
    const withoutNats = [ports.relay, base + 7, ports.sandbox];
    for (const p of opsPorts.filter((p) => !withoutNats.includes(p))) {
      assert.equal(await readyz(p), 503, `service on ${p} still ready without NATS`);
    }
    for (const p of withoutNats) {
      assert.equal(await readyz(p), 200, `service on ${p} should stay ready without NATS`);
    }
    assert.doesNotMatch(output(), /restarting in/, "no service crashed while NATS was down");
    await nats.restart();
    await until(
      "services ready again",
      async () => {
        const statuses = await Promise.all(opsPorts.map(readyz));
        return statuses.every((s) => s === 200);
      },
      60_000,
      () => tail(output()),
    );

    const stoppedAt = Date.now();
    child.kill("SIGINT");
    const status = await child.status;
    assert.equal(status.code, 0);
    assert.ok(Date.now() - stoppedAt < 10_000, "Ctrl-C stops everything within 10 s");
    for (const p of opsPorts) assert.equal(await readyz(p), 0, `something still listens on ${p}`);
  } finally {
    await up.close();
  }
});

Deno.test("make up killed with SIGKILL: its services stop on their own", async () => {
  const up = await startUp();
  try {
    await up.ready();
    up.child.kill("SIGKILL");
    await up.child.status;
    await until(
      "every service gone",
      async () => (await Promise.all(up.opsPorts.map(readyz))).every((s) => s === 0),
      15_000,
      () => tail(up.output()),
    );
  } finally {
    await up.close();
  }
});
