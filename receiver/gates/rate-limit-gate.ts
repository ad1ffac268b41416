import { ReceiverConfig } from '../receiver-config';
import { ReceiverStore } from '../store/receiver-store';
import { ALLOW, LedgerGate, refuse } from './gate';

/** At most `rate_limit.max` actions of the runbook per `rate_limit.per`. */
export function runbookRateGate(store: ReceiverStore): LedgerGate {
  return {
    name: 'rate_limit',
    ledger: true,
    check: ({ runbook, nowMs }) => {
      const r = runbook.rate_limit;
      if (!r) return ALLOW;
      const n = store.actions.count(nowMs - r.per, runbook.name);
      return n < r.max ? ALLOW : refuse(`runbook ${runbook.name} ran ${n} actions in the last ${r.per / 1000} s; the limit is ${r.max}`);
    },
  };
}

/** At most `limits.global_rate.max` actions of all runbooks together per `per`. */
export function globalRateGate(store: ReceiverStore, limit: ReceiverConfig['limits']['global_rate']): LedgerGate {
  return {
    name: 'global_rate_limit',
    ledger: true,
    check: ({ nowMs }) => {
      if (!limit) return ALLOW;
      const n = store.actions.count(nowMs - limit.per);
      return n < limit.max ? ALLOW : refuse(`${n} actions in the last ${limit.per / 1000} s across runbooks; the global limit is ${limit.max}`);
    },
  };
}
