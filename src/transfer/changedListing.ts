/**
 * A session resumed on new connections must offer what it offered before (docs/protocol.md, "Resuming a
 * session on new connections"): the receiver answers it without asking its user again, so a re-offer that
 * differs would slip past the user's choice. This compares the two listings.
 */
import { ProtocolError } from '../errors';
import type { SessionOffer } from './SessionEvent';

const described = (m: SessionOffer['files'][number]): string => `${JSON.stringify(m.name)} (${m.size} B, ${JSON.stringify(m.type)}, modified ${m.lastModified ?? 'unknown'})`;

/**
 * The difference between a session's first offer and its continuation, as a `ProtocolError`, or `undefined`
 * when every file (name, size, type, `lastModified`, in order) and every folder is the same.
 *
 * @param before The offer the user answered.
 * @param now The offer that continues it (same id) on new connections.
 */
export function changedListing(before: SessionOffer, now: SessionOffer): ProtocolError | undefined {
  const id = now.id;
  if (now.files.length !== before.files.length || now.folders.length !== before.folders.length) {
    return new ProtocolError(`the resumed session ${id} offers ${now.files.length} files and ${now.folders.length} folders; it offered ${before.files.length} and ${before.folders.length} before`, { id });
  }
  const file = now.files.findIndex((m, i) => described(m) !== described(before.files[i]));
  if (file >= 0) {
    return new ProtocolError(`the resumed session ${id} offers ${described(now.files[file])} as file ${file}; it offered ${described(before.files[file])}`, { id, i: file });
  }
  const folder = now.folders.findIndex((f, i) => f !== before.folders[i]);
  if (folder >= 0) return new ProtocolError(`the resumed session ${id} offers folder ${JSON.stringify(now.folders[folder])}; it offered ${JSON.stringify(before.folders[folder])}`, { id });
  return undefined;
}
