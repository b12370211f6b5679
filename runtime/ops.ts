/**
 * `/healthz`, `/readyz` and `/metrics`, as Hono routes any service mounts.
 * @module
 */
import { Hono } from "hono";
import { registry } from "./metrics.ts";

/** A named readiness check; true means ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/** Readiness checks of one process, added to as dependencies come up. */
export class Readiness {
  #checks = new Map<string, ReadinessCheck>();
  #started = false;

  /** Adds or replaces a check. */
  add(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  /** Marks start-up complete; until then the process is not ready. */
  markStarted(): void {
    this.#started = true;
  }

  /** Runs every check; a check that throws counts as not ready. */
  async report(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const checks: Record<string, boolean> = { started: this.#started };
    for (const [name, check] of this.#checks) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    return { ready: Object.values(checks).every(Boolean), checks };
  }
}

/**
 * Hono routes for liveness and readiness, and Prometheus metrics unless `metrics` is false (a
 * public listener never serves them: they belong on the private ops listener).
 */
export function opsRoutes(
  readiness: Readiness,
  service: string,
  opts: { metrics?: boolean } = {},
): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", service }));
  app.get("/readyz", async (c) => {
    const report = await readiness.report();
    return c.json({ service, ...report }, report.ready ? 200 : 503);
  });
  if (opts.metrics !== false) {
    app.get("/metrics", async (c) => {
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    });
  }
  return app;
}

/**
 * What a service's public listener answers before its routes are mounted: 503 with
 * `Retry-After`, so a client that arrives early retries instead of taking a 404 for an answer.
 */
export function startingRoutes(readiness: Readiness, service: string): Hono {
  const app = new Hono();
  app.route("/", opsRoutes(readiness, service, { metrics: false }));
  app.all("*", (c) => {
    c.header("Retry-After", "1");
    return c.json({ error: "starting; try again in a moment" }, 503);
  });
  return app;
}
