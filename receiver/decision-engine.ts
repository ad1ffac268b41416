import { WebhookAlert } from './alertmanager-payload';
import { ConcurrencyGate } from './gates/concurrency-gate';
import { Gate, GateContext, LedgerGate } from './gates/gate';
import { matchesAll } from './label-matcher';
import { ReceiverConfig, RunbookConfig } from './receiver-config';
import { Decision, EpisodeRow } from './store/receiver-store';

export interface DecisionOutcome {
  runbook: RunbookConfig | null;
  decision: Decision;
  /** The gate that refused, if one did. */
  gate: string | null;
  reason: string;
  target: string;
  /** For an executed decision: call when the action ends (frees its concurrency slot). */
  release?: () => void;
}

/**
 * Decides for one new firing episode: the first runbook whose matchers match, then every gate in
 * order (the first refusal wins), then the mode: dry_run records what would run, approval waits
 * for a person, live runs. The concurrency gate is checked last and its slot taken in the same
 * tick, so two decisions cannot both take the last slot.
 */
export class DecisionEngine {
  constructor(
    readonly config: Pick<ReceiverConfig, 'mode' | 'runbooks'>,
    readonly gates: Gate[],
    readonly concurrency: ConcurrencyGate,
  ) {}

  /**
   * Checks an executed decision's ledger gates again, synchronously: called inside the store
   * transaction that records its action, after every action recorded before it (of this request,
   * of earlier requests, of approvals), so no limit is passed twice on the same count. A refusal
   * frees the decision's concurrency slot.
   */
  recheck(outcome: DecisionOutcome, episode: EpisodeRow, alert: WebhookAlert, nowMs: number): DecisionOutcome {
    if (outcome.decision !== 'executed' || !outcome.runbook) return outcome;
    const ctx: GateContext = { episode, alert, runbook: outcome.runbook, target: outcome.target, nowMs };
    for (const gate of this.gates) {
      if (!isLedger(gate)) continue;
      const r = gate.check(ctx);
      if (!r.allow) {
        outcome.release?.();
        return { runbook: outcome.runbook, decision: 'refused', gate: gate.name, reason: r.reason, target: outcome.target };
      }
    }
    return outcome;
  }

  matchRunbook(alert: WebhookAlert): RunbookConfig | undefined {
    return this.config.runbooks.find((rb) => matchesAll(rb.match, alert.labels));
  }

  /** `mode` overrides the configured mode (an approved action decides as live). */
  async decide(episode: EpisodeRow, alert: WebhookAlert, nowMs: number, mode: ReceiverConfig['mode'] = this.config.mode): Promise<DecisionOutcome> {
    const runbook = this.matchRunbook(alert);
    if (!runbook) return { runbook: null, decision: 'no_runbook', gate: null, reason: 'no runbook matches the alert', target: '' };
    const target = alert.labels[runbook.target_label] ?? '';
    const ctx: GateContext = { episode, alert, runbook, target, nowMs };
    for (const gate of this.gates) {
      const r = await gate.check(ctx);
      if (!r.allow) return { runbook, decision: 'refused', gate: gate.name, reason: r.reason, target };
    }
    const last = this.concurrency.check();
    if (!last.allow) return { runbook, decision: 'refused', gate: this.concurrency.name, reason: last.reason, target };
    switch (mode) {
      case 'dry_run':
        return { runbook, decision: 'dry_run', gate: null, reason: `dry run: would run runbook ${runbook.name} on ${target}`, target };
      case 'approval':
        return { runbook, decision: 'awaiting_approval', gate: null, reason: `runbook ${runbook.name} on ${target} waits for approval`, target };
      case 'live':
        return {
          runbook,
          decision: 'executed',
          gate: null,
          reason: `every gate passed: running runbook ${runbook.name} on ${target}`,
          target,
          release: this.concurrency.enter(),
        };
    }
  }
}

function isLedger(g: Gate): g is LedgerGate {
  return g.ledger === true;
}
