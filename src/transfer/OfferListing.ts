/**
 * The receiver's `listing` phase: an `offer` followed by exactly `files` `entry` messages (`i` = 0, 1, … in
 * order) and then `folders` `folder` messages (docs/protocol.md, "Limits"). Every limit is checked as soon
 * as the message that could break it arrives, so nothing is opened or written for an offer that breaks one.
 * A broken limit throws `LimitExceededError` (the receiver rejects); a listing that breaks the protocol
 * throws `ProtocolError`.
 */
import { LimitExceededError, ProtocolError } from '../errors';
import { landingPath } from './locatePath';
import { frameIdOf, type ControlMessage, type Manifest, type SessionSettings } from '../protocol/control';
import type { SessionOffer } from './SessionEvent';

type OfferMessage = Extract<ControlMessage, { t: 'offer' }>;
type EntryMessage = Extract<ControlMessage, { t: 'entry' }>;

/** The receiver's limits on an offer; see `ReceiveFilesOptions` for each one's default. */
export interface OfferLimits {
  readonly maxFiles?: number;
  readonly maxTotalSize?: number;
  readonly maxFileSize?: number;
  readonly maxPathLength?: number;
}

/** Most chunk indexes a receiver keeps in its reorder window per file: an offer needing more is refused. */
export const MAX_CHUNK_WINDOW = 65_536;

/** Chunk indexes a sender may have in flight past a missing one under `settings`: window / chunk.min + 1. */
export const chunkWindowOf = (settings: Pick<SessionSettings, 'window' | 'chunk'>): number => Math.ceil(settings.window / settings.chunk.min) + 1;

export class OfferListing {
  /** The files listed so far, in order. */
  private readonly files: Manifest[] = [];
  private readonly folders: string[] = [];
  /** Names listed as files, and the folders the listing implies (every path prefix, every `folder`). */
  private readonly fileNames = new Set<string>();
  private readonly folderNames = new Set<string>();
  /** Sum of the listed files' sizes. */
  private bytes = 0;
  private readonly settings: SessionSettings;

  /** Checks the offer's own counts against the limits. */
  constructor(
    private readonly msg: OfferMessage,
    private readonly limits: OfferLimits,
  ) {
    const { t: _t, v: _v, id: _id, files: _f, folders: _d, bytes: _b, ...settings } = msg;
    this.settings = settings;
    const maxFiles = limits.maxFiles ?? 10_000;
    const maxTotal = limits.maxTotalSize ?? Number.MAX_SAFE_INTEGER;
    if (msg.files > maxFiles) throw new LimitExceededError('file count', msg.files, maxFiles);
    // Folders too: at most as many as files (an empty folder each, or every folder a path goes through).
    if (msg.folders > maxFiles) throw new LimitExceededError('folder count', msg.folders, maxFiles);
    if (msg.bytes > maxTotal) throw new LimitExceededError('total size', msg.bytes, maxTotal);
    // A sender may have `window` bytes in flight, in chunks of at least `chunk.min`: the receiver's reorder window
    // grows to that many chunk indexes (chunkWindow), up to MAX_CHUNK_WINDOW; an offer that needs more is refused.
    const inFlight = chunkWindowOf(settings);
    if (inFlight > MAX_CHUNK_WINDOW) throw new LimitExceededError(`chunks in flight (window ${settings.window} B / chunk.min ${settings.chunk.min} B + 1)`, inFlight, MAX_CHUNK_WINDOW);
    if (msg.files === 0 && msg.bytes !== 0) throw new ProtocolError(`an offer of no files announces ${msg.bytes} B`, { id: msg.id, bytes: msg.bytes });
  }

  /** True once every announced entry and folder has arrived. */
  get listed(): boolean {
    return this.files.length === this.msg.files && this.folders.length === this.msg.folders;
  }

  /**
   * The error when `msg` shows a message of the listing went missing: an `entry` past the next index, or a
   * `folder` before every entry came. On an ordered, reliable channel that is a message the stack lost
   * (seen with libdatachannel under a burst of thousands), or a sender that broke the order.
   */
  gap(msg: EntryMessage | Extract<ControlMessage, { t: 'folder' }>): ProtocolError | undefined {
    const expected = this.files.length;
    const { id, files } = this.msg;
    if (expected >= files) return undefined;
    if (msg.t === 'folder') return new ProtocolError(`folder out of order: ${expected} of ${files} entries listed`, { id, lost: expected });
    return msg.i > expected && msg.i < files ? new ProtocolError(`entry ${msg.i} out of order: expected entry ${expected}`, { id, i: msg.i, lost: expected }) : undefined;
  }

  /** The next `entry`: it must be the next index, within the limits, and keep the sizes within `offer.bytes`. */
  entry(e: EntryMessage): void {
    const { msg } = this;
    if (this.files.length >= msg.files || e.i !== this.files.length) {
      throw new ProtocolError(`entry ${e.i} out of order: expected ${this.files.length < msg.files ? `entry ${this.files.length}` : 'a folder'}`, { id: msg.id, i: e.i });
    }
    const maxFileSize = this.limits.maxFileSize ?? Number.MAX_SAFE_INTEGER;
    if (e.size > maxFileSize) throw new LimitExceededError('file size', e.size, maxFileSize);
    this.checkPath(e.name);
    this.checkTree(e.name, 'file');
    this.bytes += e.size;
    const last = this.files.length + 1 === msg.files;
    if (this.bytes > msg.bytes || (last && this.bytes !== msg.bytes)) {
      throw new ProtocolError(`the entries' sizes add up to ${last ? '' : 'more than '}${this.bytes} B, the offer announced ${msg.bytes} B`, { id: msg.id, bytes: msg.bytes });
    }
    const { t: _t, id: _id, i, ...file } = e;
    this.files.push({ ...this.settings, ...file, id: frameIdOf(msg.id, i), session: msg.id, index: i });
  }

  /** The next `folder`: only after every entry, at most `folders` of them. */
  folder(f: Extract<ControlMessage, { t: 'folder' }>): void {
    const { msg } = this;
    if (this.files.length < msg.files || this.folders.length >= msg.folders) {
      throw new ProtocolError(`folder out of order: ${this.files.length} of ${msg.files} entries and ${this.folders.length} of ${msg.folders} folders listed`, { id: msg.id });
    }
    this.checkPath(f.name);
    this.checkTree(f.name, 'folder');
    this.folders.push(f.name);
  }

  /** The whole offer, once listed. */
  offer(): SessionOffer {
    return { id: this.msg.id, files: [...this.files], folders: [...this.folders], bytes: this.msg.bytes };
  }

  /**
   * One tree: no name is both a file and a folder (`x` and `x/y.txt`), whichever comes first, judged on where
   * each lands in a receiver's folder (`locatePath`: `x?` and `x_/y.txt` both land on `x_`).
   */
  private checkTree(name: string, kind: 'file' | 'folder'): void {
    const segments = landingPath(name).split('/');
    for (let k = 1; k <= segments.length; k++) {
      const prefix = segments.slice(0, k).join('/');
      const isFolder = k < segments.length || kind === 'folder';
      if (isFolder ? this.fileNames.has(prefix) : this.folderNames.has(prefix)) {
        throw new ProtocolError(`"${prefix}" is listed both as a file and as a folder`, { id: this.msg.id, name, conflict: prefix });
      }
      (isFolder ? this.folderNames : this.fileNames).add(prefix);
    }
    // Every folder a path goes through is one the receiver may create: 100 names of 1,000 characters made 50,000.
    const maxFolders = this.limits.maxFiles ?? 10_000;
    if (this.folderNames.size > maxFolders) throw new LimitExceededError('folder count', this.folderNames.size, maxFolders);
  }

  private checkPath(name: string): void {
    const max = this.limits.maxPathLength ?? 1024;
    if (name.length > max) throw new LimitExceededError('path length', name.length, max);
  }
}
