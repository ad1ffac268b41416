import { ReceiverStore } from '../store/receiver-store';
import { ALLOW, LedgerGate, refuse } from './gate';

/** One action per episode until it resolves: a repeated notification never acts again. */
export function onePerEpisodeGate(store: ReceiverStore): LedgerGate {
  return {
    name: 'one_per_episode',
    ledger: true,
    check: ({ episode }) => (store.actions.episodeHasAny(episode.id) ? refuse(`episode ${episode.id} already had its action`) : ALLOW),
  };
}
