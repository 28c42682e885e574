/**
 * What the Send panel sends: files from the file input (`multiple`), one folder from the folder
 * input (`webkitdirectory`), files and folders dropped on the drop zone, or a text snippet. Each
 * becomes a `FileSet` through the library's `filesFromFileList` / `filesFromDataTransfer`
 * (docs/files.md); a snippet is a small `text/plain` file named `snippet-<time>.txt`, sent the
 * same way.
 *
 * ```
 * input change  → filesFromFileList(input.files)         → onChoose(set, 'photo.jpg and 2 more (3.1 MB)')
 * folder change → filesFromFileList(folder.files)        → paths 'holiday/a.jpg', …
 * drop          → await filesFromDataTransfer(items)     → folders walked, empty ones kept
 * ```
 */
import { filesFromDataTransfer, filesFromFileList, type FileSet } from '../../src/index';
import { formatSize } from './format';

/** Largest text snippet, characters: a snippet is for a link or a few lines, not a document. */
export const MAX_SNIPPET_CHARS = 10_000;

/** The name of a snippet file sent at `atMs`. */
export const snippetName = (atMs: number): string => `snippet-${new Date(atMs).toISOString().replace(/[:.]/g, '-')}.txt`;

/** True for a file the receiving page shows as a text snippet. */
export const isSnippet = (m: { name: string; type: string; size: number }): boolean =>
  /^snippet-[\w-]+\.txt$/.test(m.name) && m.type.startsWith('text/plain') && m.size <= MAX_SNIPPET_CHARS * 4;

/** `'a.jpg (1.2 MB)'`, `'a.jpg and 2 more (3.1 MB)'`, plus folders and what was left out. */
export function describeSet(set: FileSet): string {
  const files = set.files;
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  const folders = set.folders?.length ?? 0;
  const skipped = set.skipped?.length ?? 0;
  if (!files.length && !folders) return 'Nothing to send (no files in what you chose).';
  const first = files[0]?.name ?? `${folders} empty folder${folders === 1 ? '' : 's'}`;
  const more = files.length > 1 ? ` and ${files.length - 1} more` : '';
  const extra = [folders ? `${folders} folder${folders === 1 ? '' : 's'}` : '', skipped ? `${skipped} left out` : ''].filter(Boolean).join(', ');
  return `${first}${more} (${formatSize(bytes)}${extra ? `; ${extra}` : ''})`;
}

/** The pickers' elements (from index.html). */
export interface PickerElements {
  readonly fileInput: HTMLInputElement;
  readonly folderInput: HTMLInputElement;
  readonly dropZone: HTMLElement;
  readonly chosen: HTMLElement;
}

/** Wires the pickers; `onChoose` gets each new set (or undefined when the choice failed). */
export function createPicker(els: PickerElements, onChoose: (set: FileSet | undefined) => void): void {
  const take = (make: () => FileSet | Promise<FileSet>): void => {
    Promise.resolve()
      .then(make)
      .then(
        (set) => {
          els.chosen.textContent = describeSet(set);
          onChoose(set.files.length || set.folders?.length ? set : undefined);
        },
        (error: Error) => {
          els.chosen.textContent = `Could not use that choice: ${error.message}`;
          onChoose(undefined);
        },
      );
  };
  els.fileInput.addEventListener('change', () => els.fileInput.files?.length && take(() => filesFromFileList(els.fileInput.files!)));
  els.folderInput.addEventListener('change', () => els.folderInput.files?.length && take(() => filesFromFileList(els.folderInput.files!)));
  // Without this, dropping a file anywhere else would navigate away from the page.
  for (const type of ['dragover', 'drop'] as const) window.addEventListener(type, (e) => e.preventDefault());
  els.dropZone.addEventListener('dragenter', () => els.dropZone.classList.add('dragging'));
  els.dropZone.addEventListener('dragleave', () => els.dropZone.classList.remove('dragging'));
  els.dropZone.addEventListener('drop', (e) => {
    els.dropZone.classList.remove('dragging');
    const items = e.dataTransfer?.items;
    // filesFromDataTransfer reads every item before its first await: call it inside this handler.
    if (items?.length) {
      const pending = filesFromDataTransfer(items);
      take(() => pending);
    }
  });
}
