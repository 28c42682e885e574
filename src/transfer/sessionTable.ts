/**
 * The control session of a transfer as a table: each side's phases, and the control messages legal in
 * each. A message outside its side's table for the current phase is a `ProtocolError` (answered with
 * `error`), never a branch somebody forgot. docs/protocol.md ("States") prints the same table.
 *
 * ```
 * sender:    offered --accept(0)--> sending --complete--> ended
 *               |  \--accept(>0)--> checking --prefix equal--> sending
 *               |                       \--prefix differs: restart--> offered (next accept must be 0)
 *               \--reject--> ended
 * receiver:  listening --offer--> deciding --yes--> opening --accept sent--> accepted --complete sent--> ended
 *                                     \--no: reject--> ended      accepted --restart--> opening (from 0)
 * ```
 */
import { ProtocolError } from '../errors';
import type { ControlType } from '../protocol/control';

/** Sender phases: waiting for `accept`, hashing its own copy of a resumed prefix, sending, ended. */
export type SenderPhase = 'offered' | 'checking' | 'sending' | 'ended';
/** Receiver phases: waiting for an offer, asking the user, opening the target, accepted (data may flow), ended. */
export type ReceiverPhase = 'listening' | 'deciding' | 'opening' | 'accepted' | 'ended';

/** Legal in every phase but `ended`, on both sides. */
export const ANY_PHASE: readonly ControlType[] = ['ping', 'pong', 'cancel', 'error'];

/** What the sender accepts from the receiver, by phase. */
export const SENDER_TABLE: Readonly<Record<SenderPhase, readonly ControlType[]>> = {
  offered: ['accept', 'reject'],
  checking: [],
  sending: ['ack', 'nack', 'complete'],
  ended: [],
};

/** What the receiver accepts from the sender, by phase. */
export const RECEIVER_TABLE: Readonly<Record<ReceiverPhase, readonly ControlType[]>> = {
  listening: ['offer'],
  deciding: [],
  opening: [],
  accepted: ['done', 'restart'],
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
