import { ALLOW, Gate, refuse } from './gate';

/** The alert's severity must be one the runbook allows. */
export const severityGate: Gate = {
  name: 'severity',
  check: ({ alert, runbook }) => {
    const sev = alert.labels.severity ?? '';
    return runbook.severities.includes(sev) ? ALLOW : refuse(`severity "${sev}" is not in the runbook's severities (${runbook.severities.join(', ')})`);
  },
};
