/**
 * The server's room book: pairs two tabs per room name and relays their
 * signalling. Independent of the WebSocket library: a socket is anything with
 * `send(text)` and `close(code, reason)`, so the pairing rules are unit-tested
 * without a network (test/web/rooms.spec.ts).
 *
 * ```
 * join(a, 'abc') → a: waiting
 * join(b, 'abc') → a: paired offerer, b: paired answerer (lanes = min of both)
 * join(c, 'abc') → c: full, closed with 4001
 * message(a, signal) → b: signal (host UDP candidates only)
 * leave(b)       → a: peer-left; the next tab to join pairs with a, a offers again
 * ```
 */
import { parseSignal, type ServerMessage } from './signalling';

/** The part of a WebSocket the room book uses. */
export interface RoomSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** Close code sent to a third tab. */
export const ROOM_FULL_CODE = 4001;

/** The room book. */
export interface Rooms {
  /** Adds a tab to a room; returns false (and closes the socket) if the room already has two. */
  join(socket: RoomSocket, room: string, lanes: number): boolean;
  /** Relays one frame from a tab to its peer; drops it if unpaired or not relayable. Returns true if relayed. */
  message(socket: RoomSocket, text: string): boolean;
  /** Removes a tab (its socket closed); tells its peer. Idempotent. */
  leave(socket: RoomSocket): void;
  /** Rooms with at least one tab. */
  readonly size: number;
}

interface Member {
  readonly socket: RoomSocket;
  readonly lanes: number;
}

interface Room {
  /** In join order: the first member offers. */
  readonly members: Member[];
  /** Lanes of the current pair (0 while unpaired). */
  lanes: number;
}

const send = (socket: RoomSocket, message: ServerMessage): void => {
  try {
    socket.send(JSON.stringify(message));
  } catch {
    // A socket that is closing: its 'close' handler calls leave().
  }
};

/** Creates an empty room book. */
export function createRooms(): Rooms {
  // Rooms by name, and each socket's room name.
  const rooms = new Map<string, Room>();
  const roomOf = new Map<RoomSocket, string>();

  const peerOf = (socket: RoomSocket): { room: Room; peer: Member } | undefined => {
    const name = roomOf.get(socket);
    const room = name === undefined ? undefined : rooms.get(name);
    const peer = room?.members.find((m) => m.socket !== socket);
    return room && peer && room.lanes > 0 ? { room, peer } : undefined;
  };

  return {
    join(socket, name, lanes) {
      const room = rooms.get(name) ?? { members: [], lanes: 0 };
      if (room.members.length >= 2) {
        send(socket, { type: 'full' });
        socket.close(ROOM_FULL_CODE, 'room full');
        return false;
      }
      rooms.set(name, room);
      roomOf.set(socket, name);
      room.members.push({ socket, lanes });
      if (room.members.length === 1) {
        send(socket, { type: 'waiting', room: name });
        return true;
      }
      const [first, second] = room.members;
      room.lanes = Math.min(first.lanes, second.lanes);
      send(first.socket, { type: 'paired', role: 'offerer', lanes: room.lanes });
      send(second.socket, { type: 'paired', role: 'answerer', lanes: room.lanes });
      return true;
    },
    message(socket, text) {
      const pair = peerOf(socket);
      if (!pair) return false;
      const signal = parseSignal(text, pair.room.lanes);
      if (!signal) return false;
      send(pair.peer.socket, signal);
      return true;
    },
    leave(socket) {
      const name = roomOf.get(socket);
      if (name === undefined) return;
      roomOf.delete(socket);
      const room = rooms.get(name)!;
      const index = room.members.findIndex((m) => m.socket === socket);
      if (index >= 0) room.members.splice(index, 1);
      room.lanes = 0;
      if (!room.members.length) rooms.delete(name);
      else room.members.forEach((m) => send(m.socket, { type: 'peer-left' }));
    },
    get size() {
      return rooms.size;
    },
  };
}
