/**
 * The remediation receiver's core, without HTTP: takes a webhook body, stores the decisions, runs
 * the actions after the caller has acknowledged, handles approvals. The server (server.ts) and the
 * daemon (receiver-daemon.ts) wrap it.
 */
import { NotAnomalyMarker } from './not-anomaly';
import { Registry } from 'prom-client';
import { errorMessage } from '../common/errors';
import { Mutex } from '../common/mutex';
import { AnalysisQueue } from './analysis-queue';
import { AnalysisRequest } from './analysis-request';
import { Logger } from '../common/logger';
import { parseWebhookPayload, WebhookAlert } from './alertmanager-payload';
import { DecisionEngine, DecisionOutcome } from './decision-engine';
import { blastRadiusGate } from './gates/blast-radius-gate';
import { ConcurrencyGate } from './gates/concurrency-gate';
import { confirmationGate } from './gates/confirmation-gate';
import { cooldownGate } from './gates/cooldown-gate';
import { firingOnlyGate } from './gates/firing-only-gate';
import { Gate } from './gates/gate';
import { labelAllowlistGate } from './gates/label-allowlist-gate';
import { maintenanceGate } from './gates/maintenance-gate';
import { onePerEpisodeGate } from './gates/one-per-episode-gate';
import { globalRateGate, runbookRateGate } from './gates/rate-limit-gate';
import { severityGate } from './gates/severity-gate';
import { Intake, IntakeResult, PendingAction } from './intake';
import { PrometheusClient } from './prometheus-client';
import { ReceiverConfig } from './receiver-config';
import { ReceiverMetrics } from './receiver-metrics';
import { runRunbook } from './runbook-runner';
import { analyseIncident, IncidentAnalysis } from './incident-analysis';
import { narrate, Narrative } from './llm-narrative';
import { EpisodeRow, ReceiverStore } from './store/receiver-store';

/** A resolved episode's analysis covers this long after the resolve: the recovery, settled. */
const RESOLVED_TAIL_MS = 2 * 60_000;
/** And is fixed once this much more has passed (the last scrapes of the window are in). */
const SETTLE_MS = 30_000;

export class ApprovalError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Receiver {
  readonly store: ReceiverStore;
  readonly metrics: ReceiverMetrics;
  readonly concurrency: ConcurrencyGate;
  private cfg: ReceiverConfig;
  private wiring!: { engine: DecisionEngine; intake: Intake; prom?: PrometheusClient };
  private running = new Set<Promise<void>>();
  /** On-demand analyses (POST /api/v1/analyze): two at a time, twenty waiting at most. */
  readonly analyses: AnalysisQueue;
  /** On-call's "not an anomaly" on an episode: a marked silence in Alertmanager. */
  readonly notAnomaly: NotAnomalyMarker;
  /** Webhooks are taken one at a time, across config reloads too. */
  private readonly intakeLock = new Mutex();
  /** LLM narratives by episode state, so a page view does not ask the model again. */
  private readonly narratives = new Map<string, Promise<Narrative>>();

  constructor(
    config: ReceiverConfig,
    readonly registry: Registry,
    readonly log: Logger,
    readonly clock: () => number = Date.now,
    store?: ReceiverStore,
  ) {
    this.cfg = config;
    this.store =
      store ??
      new ReceiverStore(config.store.path, (error) =>
        log.warn(
          'disk full: store opened without its shared-memory file; pages and the API read as usual, webhooks and approvals answer 503 until space is freed',
          {
            store: config.store.path,
            error,
          },
        ),
      );
    this.metrics = new ReceiverMetrics(registry, () => this.store.episodes.countOpen());
    this.concurrency = new ConcurrencyGate(config.limits.max_concurrent_actions);
    this.analyses = new AnalysisQueue(2, 20, clock);
    this.notAnomaly = new NotAnomalyMarker(this.store, () => this.cfg, clock);
    this.wire(config);
    const interrupted = this.store.actions.markInterrupted(this.clock());
    if (interrupted.length) log.warn('actions interrupted by a restart marked outcome_unknown (not retried)', { actions: interrupted });
  }

  get config(): ReceiverConfig {
    return this.cfg;
  }

  get engine(): DecisionEngine {
    return this.wiring.engine;
  }

  get intake(): Intake {
    return this.wiring.intake;
  }

  private get prom(): PrometheusClient | undefined {
    return this.wiring.prom;
  }

  /**
   * A reloaded config: new gates, runbooks, mode and limits for the next decision. The store, the
   * metrics and the count of running actions stay, so the concurrency cap holds across a reload
   * (actions started before it count against the new cap). Requests already being decided finish
   * with the config they started with.
   */
  reconfigure(config: ReceiverConfig): void {
    this.wire(config);
    this.concurrency.max = config.limits.max_concurrent_actions;
    this.cfg = config;
  }

  private wire(config: ReceiverConfig): void {
    const prom = config.prometheus ? new PrometheusClient(config.prometheus.url, config.prometheus.timeout) : undefined;
    // Cheap, local gates first; the Prometheus confirmation last (concurrency is the engine's).
    const gates: Gate[] = [
      firingOnlyGate,
      severityGate,
      labelAllowlistGate,
      maintenanceGate(config.maintenance),
      onePerEpisodeGate(this.store),
      cooldownGate(this.store),
      runbookRateGate(this.store),
      globalRateGate(this.store, config.limits.global_rate),
      blastRadiusGate(this.store),
      confirmationGate(prom),
    ];
    const engine = new DecisionEngine(config, gates, this.concurrency);
    this.wiring = { engine, intake: new Intake(this.store, engine, config, prom, this.log, this.intakeLock), prom };
  }

  /** Parses and stores one webhook body; throws PayloadError for an unusable request. */
  async receive(body: unknown): Promise<IntakeResult> {
    const payload = parseWebhookPayload(body);
    const result = await this.intake.handle(payload, this.clock());
    this.metrics.alertsReceived.inc(payload.alerts.length + payload.rejected.length);
    this.metrics.alertsRejected.inc(payload.rejected.length);
    for (const d of result.decisions) this.countDecision(d.runbook, d.decision, d.gate);
    for (const r of result.resolved) this.metrics.timeToResolve.observe({ kind: r.kind }, r.seconds);
    return result;
  }

  private countDecision(runbook: string | null, decision: string, gate: string | null): void {
    this.metrics.decisions.inc({ runbook: runbook ?? '', decision });
    if (decision === 'refused' && gate) this.metrics.gateRefusals.inc({ gate });
  }

  /** Runs the actions of an acknowledged request in the background. */
  startActions(actions: PendingAction[]): void {
    for (const a of actions) {
      const p = this.runAction(a).finally(() => this.running.delete(p));
      this.running.add(p);
    }
  }

  /**
   * The episode's incident analysis. While the alert fires it is read from Prometheus now; once
   * resolved, its window ends RESOLVED_TAIL_MS after the resolve, and when that is past (plus a
   * scrape's lag) the analysis is stored and every later read returns the same one.
   */
  async analysis(episodeId: number): Promise<IncidentAnalysis | undefined> {
    const e = this.store.episodes.get(episodeId);
    if (!e) return undefined;
    const frozen = e.status === 'resolved' ? this.store.episodes.frozenAnalysis(e.id) : undefined;
    if (frozen) return JSON.parse(frozen) as IncidentAnalysis;
    const now = this.clock();
    const runbook = this.config.runbooks.find((r) => r.name === e.runbook);
    const a = await this.analyse(e, now, {
      decisions: this.store.episodes.decisionsOf(e.id),
      actions: this.store.actions.of(e.id),
      runbookAnnotations: runbook?.annotations ?? {},
    });
    const end = e.resolvedAtMs === null ? undefined : e.resolvedAtMs + RESOLVED_TAIL_MS;
    if (end !== undefined && now >= end + SETTLE_MS && !a.error) {
      try {
        this.store.episodes.freezeAnalysis(e.id, now, JSON.stringify(a));
      } catch {
        // A full disk: served unfrozen this time, stored on a later read.
        this.metrics.storeErrors.inc({ operation: 'freeze_analysis' });
      }
    }
    return a;
  }

  /**
   * The analysis of an alert or a service at a time, on request: the episode's own analysis when
   * the receiver has one for that alert, otherwise one made for it now (no decisions, no actions).
   * `episode_id` is null for the latter.
   */
  async analyzeRequest(r: AnalysisRequest): Promise<Omit<IncidentAnalysis, 'episode_id'> & { episode_id: number | null }> {
    const known = r.fingerprint ? this.store.episodes.find(r.fingerprint, r.startsAtMs) : undefined;
    if (known) return (await this.analysis(known.id))!;
    const now = this.clock();
    const episode: EpisodeRow = {
      id: 0,
      fingerprint: r.fingerprint ?? '',
      startsAt: new Date(r.startsAtMs).toISOString(),
      startsAtMs: r.startsAtMs,
      alertname: r.labels.alertname ?? 'on-demand analysis',
      labels: r.labels,
      annotations: r.annotations,
      status: r.endsAtMs === null ? 'firing' : 'resolved',
      openedAtMs: now,
      resolvedAtMs: r.endsAtMs,
      resolveKind: r.endsAtMs === null ? null : 'recovered',
      runbook: null,
    };
    const a = await this.analyse(episode, now, { decisions: [], actions: [], runbookAnnotations: {} });
    return { ...a, episode_id: null };
  }

  /** An episode's analysis as of `now`; a resolved one's window ends RESOLVED_TAIL_MS after its resolve. */
  private analyse(
    episode: EpisodeRow,
    now: number,
    known: Pick<Parameters<typeof analyseIncident>[1], 'decisions' | 'actions' | 'runbookAnnotations'>,
  ): Promise<IncidentAnalysis> {
    return analyseIncident(this.prom, {
      episode,
      ...known,
      nowMs: episode.resolvedAtMs === null ? now : Math.min(now, episode.resolvedAtMs + RESOLVED_TAIL_MS),
      windowMs: this.config.analysis.window,
      lookbackMs: this.config.analysis.onset_lookback,
      groupBy: this.config.analysis.group_by,
    });
  }

  /**
   * The LLM's narrative of an analysis, when analysis.llm is configured: asked once per episode
   * state (status and actions), then reused. Never throws; a failure is a `failed` narrative.
   */
  narrative(a: IncidentAnalysis): Promise<Narrative> | undefined {
    const llm = this.config.analysis.llm;
    if (!llm) return undefined;
    const key = `${a.episode_id}:${a.alert.resolved_at ?? 'firing'}:${a.remediation.actions.map((x) => x.outcome).join(',')}`;
    let p = this.narratives.get(key);
    if (!p) {
      p = narrate(llm, a).then((n) => {
        if (n.status === 'failed') this.log.warn('LLM narrative failed', { episode: a.episode_id, model: n.model, error: n.error, attempts: n.attempts });
        return n;
      });
      this.narratives.set(key, p);
      // A bounded cache: the oldest entries go first.
      if (this.narratives.size > 500) this.narratives.delete(this.narratives.keys().next().value as string);
    }
    return p;
  }

  private async runAction(a: PendingAction): Promise<void> {
    const started = this.clock();
    this.metrics.actions.inc({ runbook: a.runbook.name });
    this.metrics.timeToAction.observe({ runbook: a.runbook.name }, Math.max(0, (started - a.alert.startsAtMs) / 1000));
    try {
      const outcome = await runRunbook(
        a.runbook,
        a.alert,
        { episodeId: a.episodeId, decision: 'executed', reason: a.reason, analysis: () => this.analysis(a.episodeId) },
        this.config,
        this.log,
      );
      const detail = outcome.steps.map((s) => `${s.type}: ${s.detail}`).join('; ');
      const now = this.clock();
      this.store.transaction(() => {
        this.store.actions.finish(a.actionId, now, outcome.ok ? 'succeeded' : 'failed', detail);
        this.store.auditLog.append(now, outcome.ok ? 'action_succeeded' : 'action_failed', a.episodeId, {
          action: a.actionId,
          runbook: a.runbook.name,
          steps: outcome.steps,
        });
      });
      if (!outcome.ok) this.metrics.actionFailures.inc({ runbook: a.runbook.name });
      this.metrics.actionDuration.observe({ runbook: a.runbook.name }, (now - started) / 1000);
      this.log.info('runbook ran', { runbook: a.runbook.name, episode: a.episodeId, ok: outcome.ok });
    } catch (err) {
      this.metrics.actionFailures.inc({ runbook: a.runbook.name });
      this.log.error('runbook run failed', { runbook: a.runbook.name, episode: a.episodeId, error: errorMessage(err) });
      try {
        this.store.actions.finish(a.actionId, this.clock(), 'failed', errorMessage(err));
      } catch {
        // The store is closing or full; the action stays `running` and becomes outcome_unknown at restart.
        this.metrics.storeErrors.inc({ operation: 'action_finish' });
      }
    } finally {
      a.release();
    }
  }

  /** Approves or rejects a pending approval; an approved one passes the gates again, then runs. */
  async decideApproval(id: number, decision: 'approve' | 'reject', by: string): Promise<{ status: string; decision?: string; reason?: string }> {
    const now = this.clock();
    const approval = this.store.approvals.get(id);
    if (!approval) throw new ApprovalError(404, `no approval ${id}`);
    if (approval.status !== 'pending') throw new ApprovalError(409, `approval ${id} is already ${approval.status}`);
    if (now >= approval.expiresAtMs) {
      this.expireApprovals();
      throw new ApprovalError(409, `approval ${id} expired`);
    }
    const episode = this.store.episodes.get(approval.episodeId)!;
    const alert = episodeAlert(episode);
    if (decision === 'reject') {
      this.store.transaction(() => {
        this.store.approvals.decide(id, 'rejected', now, by);
        this.store.episodes.addDecision({
          episodeId: episode.id,
          atMs: now,
          runbook: approval.runbook,
          decision: 'refused',
          gate: 'approval',
          reason: `rejected by ${by}`,
        });
        this.store.auditLog.append(now, 'approval_rejected', episode.id, { approval: id, by });
      });
      this.countDecision(approval.runbook, 'refused', 'approval');
      return { status: 'rejected' };
    }
    if (episode.status !== 'firing') throw new ApprovalError(409, `episode ${episode.id} is resolved; nothing to approve`);
    let outcome = await this.engine.decide(episode, alert, now, 'live');
    let pending: PendingAction | undefined;
    try {
      this.store.transaction(() => {
        // Another approval of the same request may have been decided while the gates were asked.
        const current = this.store.approvals.get(id);
        if (current?.status !== 'pending') throw new ApprovalError(409, `approval ${id} is already ${current?.status ?? 'gone'}`);
        outcome = this.engine.recheck(outcome, episode, alert, now);
        pending = this.approveIn(id, episode, alert, outcome, now, by);
      });
    } catch (err) {
      outcome.release?.();
      throw err;
    }
    this.countDecision(outcome.runbook?.name ?? null, outcome.decision, outcome.gate);
    if (pending) this.startActions([pending]);
    return { status: 'approved', decision: outcome.decision, reason: outcome.reason };
  }

  /** Records an approval and its decision, inside the caller's transaction; returns the action it starts, if any. */
  private approveIn(id: number, episode: EpisodeRow, alert: WebhookAlert, outcome: DecisionOutcome, now: number, by: string): PendingAction | undefined {
    this.store.approvals.decide(id, 'approved', now, by);
    this.store.auditLog.append(now, 'approval_approved', episode.id, { approval: id, by });
    this.store.episodes.addDecision({
      episodeId: episode.id,
      atMs: now,
      runbook: outcome.runbook?.name ?? null,
      decision: outcome.decision,
      gate: outcome.gate,
      reason: `approved by ${by}; ${outcome.reason}`,
    });
    if (outcome.decision === 'executed' && outcome.runbook && outcome.release) {
      const actionId = this.store.actions.start({ episodeId: episode.id, runbook: outcome.runbook.name, target: outcome.target, atMs: now });
      this.store.auditLog.append(now, 'action_started', episode.id, { action: actionId, runbook: outcome.runbook.name, target: outcome.target });
      return { actionId, episodeId: episode.id, runbook: outcome.runbook, alert, reason: outcome.reason, release: outcome.release };
    }
    return undefined;
  }

  /**
   * expireApprovals for the timer: a store failure (a full disk) is logged and counted, never
   * thrown, so the daemon keeps serving; the next tick tries again.
   */
  expireApprovalsOnTimer(): void {
    try {
      this.expireApprovals();
    } catch (err) {
      this.metrics.storeErrors.inc({ operation: 'expire_approvals' });
      this.log.error('could not expire approvals; will try again', { error: errorMessage(err) });
    }
  }

  /** Marks pending approvals past their deadline as expired. */
  expireApprovals(): number {
    const now = this.clock();
    const due = this.store.approvals.list('pending').filter((a) => now >= a.expiresAtMs);
    if (due.length) {
      this.store.transaction(() => {
        for (const a of due) {
          this.store.approvals.decide(a.id, 'expired', now, null);
          this.store.episodes.addDecision({
            episodeId: a.episodeId,
            atMs: now,
            runbook: a.runbook,
            decision: 'refused',
            gate: 'approval',
            reason: 'approval expired',
          });
          this.store.auditLog.append(now, 'approval_expired', a.episodeId, { approval: a.id });
        }
      });
    }
    return due.length;
  }

  /** Resolves when every running action has finished. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  close(): void {
    this.store.close();
  }
}

/** The alert of a stored episode, for gates and steps. */
function episodeAlert(e: {
  fingerprint: string;
  startsAt: string;
  startsAtMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}): WebhookAlert {
  return { status: 'firing', labels: e.labels, annotations: e.annotations, startsAt: e.startsAt, startsAtMs: e.startsAtMs, fingerprint: e.fingerprint };
}
