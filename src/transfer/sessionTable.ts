/**
 * The control session of a transfer as a table: each side's phases, and the control messages legal in
 * each. A message outside its side's table for the current phase is a `ProtocolError` (answered with
 * `error`), never a branch somebody forgot. docs/protocol.md ("States") prints the same table.
 *
 * ```
 * sender:    offered --skip/resume…, accept--> sending --last complete--> ended
 *               \--reject--> ended
 * receiver:  listening --offer--> listing --last entry/folder--> deciding --yes--> opening
 *               --skip/resume…, accept sent--> accepted --last complete sent--> ended
 *            deciding --no: reject--> ended
 * ```
 * Within `sending`/`accepted`, each file has its own small cycle (FileSender, FileReceiver): the messages
 * legal here are then checked against that file's state (started, done sent, restarted…).
 */
import { ProtocolError } from '../errors';
import type { ControlType } from '../protocol/control';

/** Sender phases: waiting for the answer to the offer, sending files, ended. */
export type SenderPhase = 'offered' | 'sending' | 'ended';
/** Receiver phases: waiting for an offer, for its entries, for the user, opening (prefixes, channels), accepted, ended. */
export type ReceiverPhase = 'listening' | 'listing' | 'deciding' | 'opening' | 'accepted' | 'ended';

/** Legal in every phase but `ended`, on both sides. */
export const ANY_PHASE: readonly ControlType[] = ['ping', 'pong', 'cancel', 'error'];

/** What the sender accepts from the receiver, by phase. */
export const SENDER_TABLE: Readonly<Record<SenderPhase, readonly ControlType[]>> = {
  offered: ['skip', 'resume', 'accept', 'reject'],
  sending: ['ack', 'nack', 'complete', 'resume', 'lane-answer', 'lane-candidate', 'lane-close'],
  ended: [],
};

/** What the receiver accepts from the sender, by phase. */
export const RECEIVER_TABLE: Readonly<Record<ReceiverPhase, readonly ControlType[]>> = {
  listening: ['offer'],
  listing: ['entry', 'folder'],
  deciding: [],
  opening: [],
  accepted: ['done', 'restart', 'lane-offer', 'lane-candidate', 'lane-close'],
  ended: [],
};

/**
 * Checks `t` against a side's table: returns normally when it is legal in `phase`, throws
 * `ProtocolError` (with the phase and what would have been legal) when it is not.
 */
export function checkLegal<P extends string>(table: Readonly<Record<P, readonly ControlType[]>>, side: 'sender' | 'receiver', phase: P, t: ControlType, id?: number): void {
  if (phase !== 'ended' && (ANY_PHASE.includes(t) || table[phase].includes(t))) return;
  const legal = phase === 'ended' ? [] : [...table[phase], ...ANY_PHASE];
  throw new ProtocolError(`'${t}' is not legal for the ${side} while ${phase} (legal: ${legal.join(', ') || 'nothing'})`, {
    ...(id === undefined ? {} : { id }),
    side,
    phase,
    t,
  });
}
