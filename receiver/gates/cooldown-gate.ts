import { ReceiverStore } from '../store/receiver-store';
import { ALLOW, LedgerGate, refuse } from './gate';

/** After an action on a target, the same runbook waits `cooldown` before acting on it again. */
export function cooldownGate(store: ReceiverStore): LedgerGate {
  return {
    name: 'cooldown',
    ledger: true,
    check: ({ runbook, target, nowMs }) => {
      const last = store.actions.lastAt(runbook.name, target);
      if (last === undefined || nowMs - last >= runbook.cooldown) return ALLOW;
      return refuse(`runbook ${runbook.name} acted on ${target} ${Math.round((nowMs - last) / 1000)} s ago; cooldown is ${runbook.cooldown / 1000} s`);
    },
  };
}
