import { WebhookAlert } from '../alertmanager-payload';
import { RunbookConfig } from '../receiver-config';
import { EpisodeRow } from '../store/receiver-store';

/** What a gate sees: the episode, its alert, the runbook that matched, the target and the time. */
export interface GateContext {
  episode: EpisodeRow;
  alert: WebhookAlert;
  runbook: RunbookConfig;
  /** The value of the runbook's target_label (what the action acts on). */
  target: string;
  nowMs: number;
}

export type GateResult = { allow: true } | { allow: false; reason: string };

/** One safety check (DESIGN.md): every refusal is recorded with its reason and counted. */
export interface Gate {
  readonly name: string;
  check(ctx: GateContext): GateResult | Promise<GateResult>;
  /**
   * A ledger gate counts the actions in the store (cooldown, rate limits, blast radius, one per
   * episode); its check is synchronous. It is checked again inside the transaction that records
   * an action (DecisionEngine.recheck), so the decisions of one request, of concurrent requests
   * and of approvals cannot all pass on the same count.
   */
  readonly ledger?: boolean;
}

/** A ledger gate: its check is synchronous and reads the store's actions. */
export interface LedgerGate extends Gate {
  readonly ledger: true;
  check(ctx: GateContext): GateResult;
}

export const ALLOW: GateResult = { allow: true };
export const refuse = (reason: string): GateResult => ({ allow: false, reason });
