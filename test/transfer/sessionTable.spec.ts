/** The control session's table: every (phase, message) pair is legal exactly when the table says so. */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import type { ControlType } from '../../src/protocol/control';
import { ANY_PHASE, checkLegal, RECEIVER_TABLE, SENDER_TABLE } from '../../src/transfer/sessionTable';

const ALL: ControlType[] = ['offer', 'accept', 'restart', 'reject', 'ack', 'nack', 'done', 'complete', 'cancel', 'error', 'ping', 'pong'];

describe.each([
  ['sender' as const, SENDER_TABLE as Record<string, readonly ControlType[]>],
  ['receiver' as const, RECEIVER_TABLE as Record<string, readonly ControlType[]>],
])('%s table', (side, table) => {
  for (const phase of Object.keys(table)) {
    it(`${phase}: legal exactly ${phase === 'ended' ? 'nothing' : [...table[phase], ...ANY_PHASE].join(', ')}`, () => {
      for (const t of ALL) {
        const legal = phase !== 'ended' && (table[phase].includes(t) || ANY_PHASE.includes(t));
        if (legal) expect(() => checkLegal(table, side, phase, t, 7)).not.toThrow();
        else {
          let err: unknown;
          try {
            checkLegal(table, side, phase, t, 7);
          } catch (e) {
            err = e;
          }
          expect(err, `${t} in ${phase}`).toBeInstanceOf(ProtocolError);
          expect((err as ProtocolError).details).toMatchObject({ id: 7, side, phase, t });
        }
      }
    });
  }

  it('no side accepts its own messages: the sender never takes offer/done/restart, the receiver never takes accept/ack/nack/complete/reject', () => {
    const own = side === 'sender' ? ['offer', 'done', 'restart'] : ['accept', 'ack', 'nack', 'complete', 'reject'];
    for (const phase of Object.keys(table)) for (const t of own) expect(table[phase]).not.toContain(t);
  });
});
