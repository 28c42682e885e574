/**
 * Getting a person's attention when an offer arrives while they look elsewhere: the tab title
 * says so (`(1) Incoming: 3 files · tallow-rx`), and a system notification appears when the page
 * is hidden and the user allowed notifications (the page asks only when the user presses the
 * "Notify me" button, never on its own).
 */

export interface Attention {
  /** An offer is waiting: title, and a notification if allowed and the page is hidden. */
  incoming(text: string): void;
  /** The offer was answered or withdrawn: the title goes back. */
  clear(): void;
}

/** Wires the title and the optional "Notify me" button (hidden where notifications are not available). */
export function createAttention(doc: Document, notifyButton: HTMLButtonElement): Attention {
  const base = doc.title;
  const win = doc.defaultView as (Window & typeof globalThis) | null;
  const api = win && 'Notification' in win ? win.Notification : undefined;
  const refresh = (): void => {
    notifyButton.hidden = !api || api.permission !== 'default';
  };
  refresh();
  notifyButton.addEventListener('click', () => {
    void api?.requestPermission().then(refresh, refresh);
  });
  // The notification shown now, closed when the offer is answered.
  let shown: Notification | undefined;
  return {
    incoming(text) {
      doc.title = `(1) ${text} · ${base}`;
      if (api?.permission === 'granted' && doc.visibilityState === 'hidden') {
        try {
          shown = new api('tallow-rx', { body: text, tag: 'tallow-rx-offer' });
        } catch {
          // Some platforms (Android Chrome) allow notifications only from a service worker.
        }
      }
    },
    clear() {
      doc.title = base;
      shown?.close();
      shown = undefined;
    },
  };
}
