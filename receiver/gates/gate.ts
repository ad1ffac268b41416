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
}

export const ALLOW: GateResult = { allow: true };
export const refuse = (reason: string): GateResult => ({ allow: false, reason });
