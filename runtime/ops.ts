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

/** Hono routes for liveness, readiness and metrics. */
export function opsRoutes(readiness: Readiness, service: string): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", service }));
  app.get("/readyz", async (c) => {
    const report = await readiness.report();
    return c.json({ service, ...report }, report.ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
  });
  return app;
}
