import { Subscription } from 'rxjs';
import type { PeerConnectionLike } from '../types';
import { allowListeners } from './allowListeners';

/** Whether a peer connection has closed or failed: no channel will open or carry anything on it again. */
export const connectionGone = (pc: { readonly connectionState?: string }): boolean => pc.connectionState === 'closed' || pc.connectionState === 'failed';

/** Node warns of a listener leak past this many sessions at once on one connection (each watches its state). */
const SESSIONS_PER_CONNECTION_WITHOUT_WARNING = 256;

/**
 * Calls `gone` with the state whenever `pc`'s state changes to `closed` or `failed`, until the subscription it
 * returns ends. One listener per session: many sessions at once on one connection are allowed.
 */
export function whenConnectionGone(pc: PeerConnectionLike, gone: (state: string) => void): Subscription {
  const onState = () => void (connectionGone(pc) && gone(pc.connectionState!));
  allowListeners([pc], SESSIONS_PER_CONNECTION_WITHOUT_WARNING);
  pc.addEventListener('connectionstatechange', onState);
  return new Subscription(() => pc.removeEventListener('connectionstatechange', onState));
}
