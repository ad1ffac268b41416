/**
 * One webhook request, end to end up to durable storage: episodes keyed by fingerprint +
 * startsAt, a decision for every new firing episode, resolves (recovered, or source lost), every
 * rejected alert, all in one SQLite transaction. Only after it commits may the server answer 2xx,
 * and only then do actions run (their rows are written, as `running`, in the same transaction, so
 * a crash leaves them visible as `outcome_unknown`, never retried).
 */
import { Mutex } from '../common/mutex';
import { errorMessage } from '../common/errors';
import { Logger } from '../common/logger';
import { WebhookAlert, WebhookPayload } from './alertmanager-payload';
import { DecisionEngine, DecisionOutcome } from './decision-engine';
import { matchesAll } from './label-matcher';
import { PrometheusClient } from './prometheus-client';
import { ReceiverConfig, RunbookConfig } from './receiver-config';
import { EpisodeRow, ReceiverStore, ResolveKind } from './store/receiver-store';

/** Work to do once the request is acknowledged: one runbook run per executed decision. */
export interface PendingAction {
  actionId: number;
  episodeId: number;
  runbook: RunbookConfig;
  alert: WebhookAlert;
  reason: string;
  release: () => void;
}

export interface IntakeResult {
  received: number;
  rejected: number;
  decisions: { episodeId: number; decision: string; runbook: string | null; gate: string | null; reason: string }[];
  resolved: { episodeId: number; kind: ResolveKind; seconds: number }[];
  actions: PendingAction[];
}

type Plan =
  | { kind: 'new'; alert: WebhookAlert; outcome: DecisionOutcome }
  | { kind: 'duplicate'; alert: WebhookAlert; episode: EpisodeRow; why: string }
  | { kind: 'resolve'; alert: WebhookAlert; episode?: EpisodeRow; resolveKind: ResolveKind; note: string };

export class Intake {
  constructor(
    readonly store: ReceiverStore,
    readonly engine: DecisionEngine,
    readonly config: Pick<ReceiverConfig, 'source' | 'approvals' | 'mode'>,
    readonly prom: PrometheusClient | undefined,
    readonly log: Logger,
    /** One webhook at a time; shared by the intakes before and after a config reload. */
    private readonly mutex: Mutex = new Mutex(),
  ) {}

  handle(payload: WebhookPayload, nowMs: number): Promise<IntakeResult> {
    return this.mutex.run(() => this.handleLocked(payload, nowMs));
  }

  private async handleLocked(payload: WebhookPayload, nowMs: number): Promise<IntakeResult> {
    const plans: Plan[] = [];
    const seen = new Set<string>();
    for (const alert of payload.alerts) {
      const key = `${alert.fingerprint}|${alert.startsAtMs}|${alert.status}`;
      if (seen.has(key)) continue; // the same alert twice in one group: once is enough
      seen.add(key);
      const episode = this.store.episodes.find(alert.fingerprint, alert.startsAtMs);
      if (alert.status === 'firing') {
        if (episode)
          plans.push({
            kind: 'duplicate',
            alert,
            episode,
            why:
              episode.status === 'resolved'
                ? `episode ${episode.id} is already resolved: a late firing never acts`
                : `episode ${episode.id} was received before: a repeated or retried delivery never acts twice`,
          });
        else plans.push({ kind: 'new', alert, outcome: await this.engine.decide(provisional(alert, nowMs), alert, nowMs) });
      } else if (episode?.status === 'resolved') {
        plans.push({ kind: 'duplicate', alert, episode, why: `episode ${episode.id} is already resolved` });
      } else {
        const { kind, note } = await this.resolveKind(alert);
        plans.push({ kind: 'resolve', alert, episode, resolveKind: kind, note });
      }
    }

    const result: IntakeResult = { received: payload.alerts.length, rejected: payload.rejected.length, decisions: [], resolved: [], actions: [] };
    try {
      this.store.transaction(() => this.write(payload, plans, nowMs, result));
    } catch (err) {
      for (const p of plans) if (p.kind === 'new') p.outcome.release?.();
      throw err;
    }
    return result;
  }

  /** Everything of one request, inside one transaction. */
  private write(payload: WebhookPayload, plans: Plan[], nowMs: number, result: IntakeResult): void {
    const s = this.store;
    for (const r of payload.rejected)
      s.auditLog.append(nowMs, 'alert_rejected', null, { index: r.index, reason: r.reason, alert: truncateRaw(r.raw), group: payload.groupKey });
    for (const p of plans) {
      if (p.kind === 'duplicate') {
        if (p.alert.status === 'firing')
          s.episodes.addDecision({ episodeId: p.episode.id, atMs: nowMs, runbook: p.episode.runbook, decision: 'duplicate', gate: null, reason: p.why });
        s.auditLog.append(nowMs, 'duplicate_delivery', p.episode.id, { status: p.alert.status, reason: p.why });
        result.decisions.push({ episodeId: p.episode.id, decision: 'duplicate', runbook: p.episode.runbook, gate: null, reason: p.why });
        continue;
      }
      if (p.kind === 'resolve') {
        let episode = p.episode;
        if (!episode) {
          // Resolved before any firing was received (out of order, or the firing was lost).
          episode = s.episodes.insert(episodeFields(p.alert, nowMs, 'firing'));
          s.auditLog.append(nowMs, 'resolved_without_firing', episode.id, { labels: p.alert.labels });
        }
        const resolvedAt = resolveInstant(p.alert, nowMs);
        s.episodes.resolve(episode.id, resolvedAt, p.resolveKind);
        const seconds = Math.max(0, (resolvedAt - p.alert.startsAtMs) / 1000);
        s.auditLog.append(nowMs, 'episode_resolved', episode.id, { kind: p.resolveKind, seconds_since_start: seconds, note: p.note });
        result.resolved.push({ episodeId: episode.id, kind: p.resolveKind, seconds });
        continue;
      }
      const episode = s.episodes.insert(episodeFields(p.alert, nowMs, 'firing'));
      // The limits counted before this request's earlier actions were written: count again.
      const o = this.engine.recheck(p.outcome, episode, p.alert, nowMs);
      s.auditLog.append(nowMs, 'episode_opened', episode.id, { labels: p.alert.labels, startsAt: p.alert.startsAt });
      if (o.runbook) s.episodes.setRunbook(episode.id, o.runbook.name);
      const decisionId = s.episodes.addDecision({
        episodeId: episode.id,
        atMs: nowMs,
        runbook: o.runbook?.name ?? null,
        decision: o.decision,
        gate: o.gate,
        reason: o.reason,
      });
      s.auditLog.append(nowMs, 'decision', episode.id, {
        decision: o.decision,
        runbook: o.runbook?.name ?? null,
        gate: o.gate,
        reason: o.reason,
        decision_id: decisionId,
      });
      result.decisions.push({ episodeId: episode.id, decision: o.decision, runbook: o.runbook?.name ?? null, gate: o.gate, reason: o.reason });
      if (o.decision === 'executed' && o.runbook && o.release) {
        const actionId = s.actions.start({ episodeId: episode.id, runbook: o.runbook.name, target: o.target, atMs: nowMs });
        s.auditLog.append(nowMs, 'action_started', episode.id, { action: actionId, runbook: o.runbook.name, target: o.target });
        result.actions.push({ actionId, episodeId: episode.id, runbook: o.runbook, alert: p.alert, reason: o.reason, release: o.release });
      } else if (o.decision === 'awaiting_approval' && o.runbook) {
        const approvalId = s.approvals.add({
          episodeId: episode.id,
          runbook: o.runbook.name,
          createdAtMs: nowMs,
          expiresAtMs: nowMs + this.config.approvals.timeout,
        });
        s.auditLog.append(nowMs, 'approval_requested', episode.id, {
          approval: approvalId,
          runbook: o.runbook.name,
          expires_at_ms: nowMs + this.config.approvals.timeout,
        });
      }
    }
  }

  /**
   * A resolve is a recovery unless the alert is an anomaly alert and its source (the exporter)
   * was lost: then its series went stale and the alert resolved by itself.
   */
  private async resolveKind(alert: WebhookAlert): Promise<{ kind: ResolveKind; note: string }> {
    if (!matchesAll(this.config.source.alerts, alert.labels)) return { kind: 'recovered', note: 'not an anomaly alert: no source check' };
    if (!this.prom) return { kind: 'unverified', note: 'no prometheus.url to check the anomaly source' };
    try {
      const lost = await this.prom.query(this.config.source.lost_query);
      return lost.length
        ? { kind: 'source_lost', note: 'the anomaly source was down or stale when the alert resolved' }
        : { kind: 'recovered', note: 'the anomaly source was up' };
    } catch (err) {
      this.log.warn('source check failed; resolve recorded as unverified', { error: errorMessage(err) });
      return { kind: 'unverified', note: `source check failed: ${errorMessage(err)}` };
    }
  }
}

function episodeFields(alert: WebhookAlert, nowMs: number, status: 'firing') {
  return {
    fingerprint: alert.fingerprint,
    startsAt: alert.startsAt,
    startsAtMs: alert.startsAtMs,
    alertname: alert.labels.alertname,
    labels: alert.labels,
    annotations: alert.annotations,
    status,
    openedAtMs: nowMs,
  };
}

/** An episode not stored yet, for the gates to look at. */
function provisional(alert: WebhookAlert, nowMs: number): EpisodeRow {
  return { id: -1, ...episodeFields(alert, nowMs, 'firing'), resolvedAtMs: null, resolveKind: null, runbook: null };
}

function truncateRaw(raw: unknown): unknown {
  const text = JSON.stringify(raw) ?? 'undefined';
  return text.length > 4096 ? `${text.slice(0, 4096)}…` : raw;
}

/**
 * When an alert stopped firing: its `endsAt` (the instant Prometheus resolved it), not when the
 * notification arrived, which Alertmanager's group_interval delays by up to minutes. The one
 * definition of "resolved at" the episode, time_to_resolve_seconds, the analysis and the demo
 * share. An endsAt before startsAt or in the future (a skewed clock) falls back to arrival.
 */
export function resolveInstant(alert: WebhookAlert, arrivedMs: number): number {
  const ends = alert.endsAt === undefined ? NaN : Date.parse(alert.endsAt);
  return Number.isFinite(ends) && ends >= alert.startsAtMs && ends <= arrivedMs ? ends : arrivedMs;
}
