import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricName, type MetricSink } from './metrics.js';

/**
 * The metrics port's Lambda adapter: Powertools Metrics writing CloudWatch Embedded Metric Format
 * lines to the function's log, which CloudWatch turns into metrics without an API call
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * One EMF line per distinct set of dimensions, since the dimensions of one EMF line apply to every
 * metric in it; the only default dimension is `service`.
 */
export function emfSink(
  metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
): MetricSink {
  const pending = new Map<string, { dimensions: Record<string, string>; values: Map<MetricName, number> }>();
  return {
    add(name, dimensions, value) {
      const key = JSON.stringify(dimensions);
      let group = pending.get(key);
      if (!group) pending.set(key, (group = { dimensions, values: new Map() }));
      group.values.set(name, (group.values.get(name) ?? 0) + value);
    },
    flush() {
      for (const { dimensions, values } of pending.values()) {
        metrics.addDimensions(dimensions);
        for (const [name, value] of values) metrics.addMetric(name, MetricUnit.Count, value);
        metrics.publishStoredMetrics();
      }
      pending.clear();
    },
  };
}
