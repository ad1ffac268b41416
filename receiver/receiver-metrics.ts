import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** 1 s to 1 h: remediation times (prom-client's default buckets stop at 10 s). */
export const REMEDIATION_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 120, 300, 600, 1200, 1800, 3600];

/** The receiver's metrics, prefix remediation_ (DESIGN.md). */
export class ReceiverMetrics {
  readonly alertsReceived: Counter;
  readonly alertsRejected: Counter;
  readonly requests: Counter<'code'>;
  readonly decisions: Counter<'runbook' | 'decision'>;
  readonly gateRefusals: Counter<'gate'>;
  readonly actions: Counter<'runbook'>;
  readonly actionFailures: Counter<'runbook'>;
  readonly actionDuration: Histogram<'runbook'>;
  readonly timeToAction: Histogram<'runbook'>;
  readonly timeToResolve: Histogram<'kind'>;
  readonly episodesOpen: Gauge;
  readonly storeErrors: Counter<'operation'>;
  readonly notAnomaly: Counter<'outcome'>;

  constructor(registry: Registry, openEpisodes: () => number) {
    const r = [registry];
    this.notAnomaly = new Counter({
      name: 'remediation_not_anomaly_marks_total',
      help: '"Not an anomaly" clicks by outcome: marked (a silence with the false-positive marker written to Alertmanager), failed (Alertmanager refused or was unreachable).',
      labelNames: ['outcome'],
      registers: r,
    });
    for (const outcome of ['marked', 'failed']) this.notAnomaly.inc({ outcome }, 0);
    this.alertsReceived = new Counter({
      name: 'remediation_alerts_received_total',
      help: 'Alerts received in webhook requests, rejected ones included.',
      registers: r,
    });
    this.alertsRejected = new Counter({
      name: 'remediation_alerts_rejected_total',
      help: 'Alerts recorded as rejected (malformed inside a usable request).',
      registers: r,
    });
    this.requests = new Counter({
      name: 'remediation_webhook_requests_total',
      help: 'Webhook requests by HTTP status code answered.',
      labelNames: ['code'],
      registers: r,
    });
    this.decisions = new Counter({
      name: 'remediation_decisions_total',
      help: 'Decisions by runbook and outcome (executed, dry_run, awaiting_approval, refused, no_runbook, duplicate).',
      labelNames: ['runbook', 'decision'],
      registers: r,
    });
    this.gateRefusals = new Counter({
      name: 'remediation_gate_refusals_total',
      help: 'Decisions refused, by the gate that refused.',
      labelNames: ['gate'],
      registers: r,
    });
    this.actions = new Counter({ name: 'remediation_actions_total', help: 'Runbook runs started, per runbook.', labelNames: ['runbook'], registers: r });
    this.actionFailures = new Counter({
      name: 'remediation_action_failures_total',
      help: 'Runbook runs that failed (a step failed or timed out), per runbook.',
      labelNames: ['runbook'],
      registers: r,
    });
    this.actionDuration = new Histogram({
      name: 'remediation_action_duration_seconds',
      help: 'Duration of runbook runs, per runbook.',
      labelNames: ['runbook'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers: r,
    });
    this.timeToAction = new Histogram({
      name: 'remediation_time_to_action_seconds',
      help: 'From the alert startsAt to the start of its runbook run.',
      labelNames: ['runbook'],
      buckets: REMEDIATION_BUCKETS,
      registers: r,
    });
    this.timeToResolve = new Histogram({
      name: 'remediation_time_to_resolve_seconds',
      help: 'From the alert startsAt to its resolved notification, by kind (recovered, source_lost, unverified).',
      labelNames: ['kind'],
      buckets: REMEDIATION_BUCKETS,
      registers: r,
    });
    this.storeErrors = new Counter({
      name: 'remediation_store_errors_total',
      help: 'Store writes that failed (a full disk, say), per operation: the request was answered 503 and nothing committed, or the timer tries again.',
      labelNames: ['operation'],
      registers: r,
    });
    this.episodesOpen = new Gauge({
      name: 'remediation_episodes_open',
      help: 'Episodes firing and not yet resolved.',
      registers: r,
      collect() {
        this.set(openEpisodes());
      },
    });
  }
}
