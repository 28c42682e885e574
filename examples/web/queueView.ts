/**
 * The queue of one session's files: a row per file with its name, size and own progress bar,
 * and what arrived (a download link, a text snippet) once it is done.
 *
 * ```
 * setFiles([a, b, c])          a ▱▱▱ waiting   b ▱▱▱ waiting   c ▱▱▱ waiting
 * progress(0, 5 MB, 10 MB)     a ▰▰▱ 50 %
 * done(0, link)                a ▰▰▰ done  [Save a]
 * stop('cancelled')            b, c: stopped
 * ```
 *
 * Rows carry `data-index` (the file's index in its session) and `data-state` (`waiting`,
 * `active`, `done`, `stopped`) for tests and styling. At most {@link MAX_ROWS} rows are drawn;
 * a last line counts the rest.
 */
import { formatPercent, formatSize } from './format';

/** Rows drawn at most; larger sessions show the first ones and a count. */
export const MAX_ROWS = 200;

/** A file as the queue shows it. */
export interface QueueFile {
  readonly index: number;
  readonly name: string;
  readonly size: number;
}

export interface QueueView {
  readonly element: HTMLOListElement;
  /** Replaces the rows with these files, all waiting. */
  setFiles(files: readonly QueueFile[]): void;
  /** Sets one file's bar. */
  progress(index: number, bytes: number, total: number): void;
  /** Marks a file done and appends `extra` (a link, a snippet) to its row. */
  done(index: number, extra?: Node): void;
  /** Marks every file that is not done as stopped. */
  stop(): void;
  /** Files done, of all rows. */
  readonly counts: { readonly done: number; readonly total: number };
}

/** Builds an empty queue; `label` names the list for assistive technology. */
export function createQueueView(doc: Document, prefix: string, label: string): QueueView {
  const list = doc.createElement('ol');
  list.className = 'queue';
  list.id = `${prefix}-queue`;
  list.setAttribute('aria-label', label);
  // Rows by file index, and each row's parts.
  let rows = new Map<number, { li: HTMLLIElement; bar: HTMLProgressElement; text: HTMLElement }>();
  let total = 0;
  let doneCount = 0;

  const row = (file: QueueFile, i: number): HTMLLIElement => {
    const li = doc.createElement('li');
    li.dataset.index = String(file.index);
    li.dataset.state = 'waiting';
    const name = doc.createElement('span');
    name.className = 'queue-name';
    name.textContent = `${file.name} (${formatSize(file.size)})`;
    const bar = doc.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.id = `${prefix}-queue-${i}`;
    bar.setAttribute('aria-label', `${file.name} progress`);
    const text = doc.createElement('span');
    text.className = 'queue-state';
    text.textContent = 'waiting';
    li.append(name, bar, text);
    rows.set(file.index, { li, bar, text });
    return li;
  };

  return {
    element: list,
    get counts() {
      return { done: doneCount, total };
    },
    setFiles(files) {
      rows = new Map();
      total = files.length;
      doneCount = 0;
      const items: HTMLLIElement[] = files.slice(0, MAX_ROWS).map(row);
      if (files.length > MAX_ROWS) {
        const more = doc.createElement('li');
        more.className = 'queue-more';
        more.textContent = `and ${files.length - MAX_ROWS} more files`;
        items.push(more);
      }
      list.replaceChildren(...items);
    },
    progress(index, bytes, fileTotal) {
      const r = rows.get(index);
      if (!r || r.li.dataset.state === 'done') return;
      const percent = fileTotal > 0 ? Math.min(100, (bytes / fileTotal) * 100) : 0;
      r.li.dataset.state = 'active';
      r.bar.value = percent;
      r.text.textContent = formatPercent(percent);
    },
    done(index, extra) {
      doneCount++;
      const r = rows.get(index);
      if (!r) return;
      r.li.dataset.state = 'done';
      r.bar.value = 100;
      r.text.textContent = 'done';
      if (extra) r.li.append(extra);
    },
    stop() {
      for (const r of rows.values()) {
        if (r.li.dataset.state === 'done') continue;
        r.li.dataset.state = 'stopped';
        r.text.textContent = 'stopped';
      }
    },
  };
}
