/**
 * `tallow-rx/protocol`: the wire codecs and limits, for a peer written from
 * docs/protocol.md (or a tool that inspects traffic), and the file-name
 * sanitiser, for a receive target of your own. Transfers never need these:
 * `sendFiles`/`receiveFiles` speak the protocol for you.
 */
export { CHROME_MAX_MESSAGE_SIZE, SEND_QUEUE_LIMIT } from './types';
export { decodeFrame, encodeFrame, FRAME_HEADER_SIZE, type DataFrame } from './protocol/frame';
export {
  CONTROL_VERSION,
  encodeControl,
  frameIdOf,
  MAX_CONTROL_MESSAGE,
  parseControl,
  type ControlMessage,
  type FileEntry,
  type SessionSettings,
} from './protocol/control';
export { sanitizeFileName } from './protocol/sanitizeFileName';
