/**
 * The process_* and nodejs_* metrics every Node.js exporter exposes (prom-client's default
 * collectors: CPU, memory, file descriptors, event loop lag, GC, heap spaces), minus the three
 * that break the exposition rules: prom-client names its gauges nodejs_active_handles_total,
 * nodejs_active_requests_total and nodejs_active_resources_total, and `promtool check metrics`
 * rejects `_total` on a gauge. Their counts stay available, unsuffixed and by type
 * (nodejs_active_handles, nodejs_active_requests, nodejs_active_resources).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const m of registry.getMetricsAsArray()) {
    const name = m.name as string;
    if (name.startsWith('nodejs_active_') && name.endsWith('_total')) registry.removeSingleMetric(name);
  }
}
