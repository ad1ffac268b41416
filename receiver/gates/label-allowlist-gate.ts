import { ALLOW, Gate, refuse } from './gate';

/** Per label, only the listed values may act (e.g. service: [checkout]). */
export const labelAllowlistGate: Gate = {
  name: 'label_allowlist',
  check: ({ alert, runbook }) => {
    for (const [label, allowed] of Object.entries(runbook.label_allowlist)) {
      const v = alert.labels[label];
      if (v === undefined || !allowed.includes(v)) return refuse(`label ${label}=${JSON.stringify(v ?? '')} is not in the allowlist (${allowed.join(', ')})`);
    }
    return ALLOW;
  },
};
