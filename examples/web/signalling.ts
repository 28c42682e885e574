/**
 * The web example's signalling protocol is the rendezvous server's: see
 * src/server/signalling.ts (message types, candidate filters, limits) and
 * src/server/roomCode.ts (short codes). Both have no DOM and no Node imports,
 * so the page bundles them.
 */
export * from '../../src/server/signalling';
export { formatRoomCode, normalizeRoomCode, ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH } from '../../src/server/roomCode';
