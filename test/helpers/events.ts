/** Finding events in a recorded transfer. */
import type { TransferEvent } from '../../src/index';

/** The `completed` event of a transfer, if it has one. */
export const completedOf = (events: readonly TransferEvent[]): Extract<TransferEvent, { type: 'completed' }> | undefined =>
  events.find((e): e is Extract<TransferEvent, { type: 'completed' }> => e.type === 'completed');
