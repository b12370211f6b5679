/**
 * Prometheus metrics: one registry per process, exposed at `/metrics`.
 * @module
 */
import client from "prom-client";

/** The process-wide registry every service registers its metrics with. */
export const registry = new client.Registry();

/** Creates (or returns the existing) counter with `name` on the registry. */
export function counter(
  name: string,
  help: string,
  labelNames: string[] = [],
): client.Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Counter<string>;
  return new client.Counter({ name, help, labelNames, registers: [registry] });
}

/** Creates (or returns the existing) gauge with `name` on the registry. */
export function gauge(name: string, help: string, labelNames: string[] = []): client.Gauge<string> {
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
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Histogram<string>;
  return new client.Histogram({ name, help, labelNames, buckets, registers: [registry] });
}
