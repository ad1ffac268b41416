import { ALLOW, Gate, refuse } from './gate';

/** Only firing alerts act; a resolved one never starts an action. */
export const firingOnlyGate: Gate = {
  name: 'firing_only',
  check: ({ alert }) => (alert.status === 'firing' ? ALLOW : refuse(`alert is ${alert.status}, only firing alerts act`)),
};
