import { errorMessage } from '../../common/errors';
import { METRIC } from '../../common/vocabulary';
import { PrometheusClient } from '../prometheus-client';
import { renderTemplate } from '../step-template';
import { ALLOW, Gate, refuse } from './gate';

/**
 * Optionally, the anomaly must still be there at decision time, read from Prometheus: the score
 * query above `min_score`, and/or at least `min_anomalous_signals` anomalous signals for the
 * target. A failed query refuses (no confirmation, no action).
 */
export function confirmationGate(prom: PrometheusClient | undefined): Gate {
  return {
    name: 'confirmation',
    check: async ({ alert, runbook, target }) => {
      const c = runbook.confirm;
      if (!c) return ALLOW;
      if (!prom) return refuse('confirmation needs prometheus.url');
      try {
        if (c.check_score) {
          const q = renderTemplate(c.score_query, { labels: alert.labels, annotations: alert.annotations });
          const r = await prom.query(q);
          const v = r.length ? Math.max(...r.map((x) => x.value)) : NaN;
          if (!(v > c.min_score)) return refuse(`score ${Number.isNaN(v) ? 'absent' : v.toFixed(2)} is not above ${c.min_score} now (${q})`);
        }
        if (c.min_anomalous_signals !== undefined) {
          const q = `max(${METRIC.anomalousSignals}{${runbook.target_label}=${JSON.stringify(target)}})`;
          const r = await prom.query(q);
          const n = r.length ? r[0].value : 0;
          if (!(n >= c.min_anomalous_signals)) return refuse(`${n} anomalous signals for ${target} now; at least ${c.min_anomalous_signals} required`);
        }
        return ALLOW;
      } catch (err) {
        return refuse(`confirmation query failed: ${errorMessage(err)}`);
      }
    },
  };
}
