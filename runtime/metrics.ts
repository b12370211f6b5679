/**
 * Prometheus metrics: one registry per process, exposed at `/metrics`.
 * @module
 */
import client from "prom-client";

/** The process-wide registry every service registers its metrics with. */
export const registry = new client.Registry();

/**
 * Metric names are `meridian_<service>_<what>[_<unit>]`; counters end in `_total`, histograms
 * in their unit. A name off the pattern is refused where it is declared, so it never ships.
 */
export function checkMetricName(name: string, kind: "counter" | "gauge" | "histogram"): void {
  const ok = /^meridian_[a-z]+_[a-z0-9_]+$/.test(name) &&
    (kind === "counter" ? name.endsWith("_total") : !name.endsWith("_total")) &&
    (kind !== "histogram" || /_(seconds|bytes)$/.test(name));
  if (!ok) throw new Error(`metric ${name}: not meridian_<service>_<what>_<unit> for a ${kind}`);
}

/** Creates (or returns the existing) counter with `name` on the registry. */
export function counter(
  name: string,
  help: string,
  labelNames: string[] = [],
): client.Counter<string> {
  checkMetricName(name, "counter");
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Counter<string>;
  return new client.Counter({ name, help, labelNames, registers: [registry] });
}

/** Creates (or returns the existing) gauge with `name` on the registry. */
export function gauge(name: string, help: string, labelNames: string[] = []): client.Gauge<string> {
  checkMetricName(name, "gauge");
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Gauge<string>;
  return new client.Gauge({ name, help, labelNames, registers: [registry] });
}

/** Creates (or returns the existing) histogram with `name`, in seconds. */
export function histogram(
  name: string,
  help: string,
  labelNames: string[] = [],
  buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
): client.Histogram<string> {
  checkMetricName(name, "histogram");
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Histogram<string>;
  return new client.Histogram({ name, help, labelNames, buckets, registers: [registry] });
}
