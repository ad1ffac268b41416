import { ReceiverStore } from '../store/receiver-store';
import { ALLOW, LedgerGate, refuse } from './gate';

/** At most `max_targets.max` distinct targets per `per` for a runbook: a bad day stays small. */
export function blastRadiusGate(store: ReceiverStore): LedgerGate {
  return {
    name: 'blast_radius',
    ledger: true,
    check: ({ runbook, target, nowMs }) => {
      const m = runbook.max_targets;
      if (!m) return ALLOW;
      const targets = store.actions.targets(runbook.name, nowMs - m.per);
      if (targets.includes(target) || targets.length < m.max) return ALLOW;
      return refuse(
        `runbook ${runbook.name} already acted on ${targets.length} targets (${targets.join(', ')}) in the last ${m.per / 1000} s; the cap is ${m.max}`,
      );
    },
  };
}
