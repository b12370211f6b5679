import assert from "node:assert/strict";
import { checkMetricName, counter } from "./metrics.ts";
import { opsRoutes, Readiness, startingRoutes } from "./ops.ts";

Deno.test("readyz reflects every check and start-up; metrics are Prometheus text", async () => {
  const readiness = new Readiness();
  let natsUp = true;
  readiness.add("nats", () => natsUp);
  readiness.add("database", () => {
    throw new Error("down");
  });
  const app = opsRoutes(readiness, "test");
  assert.equal((await app.request("/healthz")).status, 200);
  let res = await app.request("/readyz");
  assert.equal(res.status, 503);
  assert.deepEqual((await res.json()).checks, { started: false, nats: true, database: false });
  readiness.add("database", () => true);
  readiness.markStarted();
  assert.equal((await app.request("/readyz")).status, 200);
  natsUp = false;
  assert.equal((await app.request("/readyz")).status, 503);
  counter("meridian_ops_test_total", "a test counter").inc();
  res = await app.request("/metrics");
  assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  assert.match(await res.text(), /^meridian_ops_test_total 1$/m);
});

Deno.test("a public listener never serves metrics; before its routes are mounted it answers 503", async () => {
  const readiness = new Readiness();
  const publicOps = opsRoutes(readiness, "test", { metrics: false });
  assert.equal((await publicOps.request("/metrics")).status, 404);
  assert.equal((await publicOps.request("/healthz")).status, 200);

  const starting = startingRoutes(readiness, "test");
  for (const path of ["/api/holdings", "/webhooks/plaid", "/"]) {
    const res = await starting.request(path, { method: path === "/" ? "GET" : "POST" });
    assert.equal(res.status, 503, path);
    assert.equal(res.headers.get("retry-after"), "1");
    assert.match((await res.json()).error, /starting/);
  }
  assert.equal((await starting.request("/healthz")).status, 200);
  assert.equal((await starting.request("/readyz")).status, 503);
  assert.equal((await starting.request("/metrics")).status, 503);
});

Deno.test("metric names are meridian_<service>_<what>_<unit>, counters end in _total", () => {
  checkMetricName("meridian_relay_outbox_backlog", "gauge");
  checkMetricName("meridian_sync_runs_total", "counter");
  checkMetricName("meridian_relay_forward_latency_seconds", "histogram");
  assert.throws(() => checkMetricName("relay_outbox_backlog", "gauge"), /meridian_/);
  assert.throws(() => checkMetricName("meridian_api_stream_dropped_total", "gauge"));
  assert.throws(() => checkMetricName("meridian_sync_runs", "counter"));
  assert.throws(() => checkMetricName("meridian_sync_call_latency", "histogram"));
});
