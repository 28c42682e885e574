/**
 * The room book moved into the project as the rendezvous server's core:
 * `createRendezvous` (src/server/createRendezvous.ts) seats and pairs peers,
 * with short codes and limits, over a store in memory or in Redis.
 */
export { createRendezvous, type Rendezvous, type RendezvousSocket } from '../../src/server/createRendezvous';
export { memoryStore } from '../../src/server/memoryStore';
