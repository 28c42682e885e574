/** The SHA-256 that the tests compare against: node:crypto's, as lowercase hex (what `sha256sum` prints). */
import { createHash } from 'node:crypto';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
