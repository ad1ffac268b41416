import { matchesAll } from '../label-matcher';
import { ReceiverConfig } from '../receiver-config';
import { ALLOW, Gate, refuse } from './gate';

/** No action inside a configured maintenance window whose matchers match the alert. */
export function maintenanceGate(windows: ReceiverConfig['maintenance']): Gate {
  const parsed = windows.map((w) => ({ ...w, startMs: Date.parse(w.start), endMs: Date.parse(w.end) }));
  return {
    name: 'maintenance',
    check: ({ alert, nowMs }) => {
      const w = parsed.find((x) => nowMs >= x.startMs && nowMs < x.endMs && matchesAll(x.match, alert.labels));
      return w ? refuse(`in maintenance window ${w.start} to ${w.end}: ${w.reason}`) : ALLOW;
    },
  };
}
