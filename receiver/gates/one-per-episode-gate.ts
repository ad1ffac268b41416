import { ReceiverStore } from '../store/receiver-store';
import { ALLOW, Gate, refuse } from './gate';

/** One action per episode until it resolves: a repeated notification never acts again. */
export function onePerEpisodeGate(store: ReceiverStore): Gate {
  return {
    name: 'one_per_episode',
    check: ({ episode }) => (store.actions.episodeHasAny(episode.id) ? refuse(`episode ${episode.id} already had its action`) : ALLOW),
  };
}
