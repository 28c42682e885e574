/**
 * Joining, as the page shows it: the room's short code (`ABC-DEF`), a QR code of the room link,
 * a copy-link button, a form to join by a code typed from the other device, and the safety code
 * (short authentication string) once connected.
 *
 * ```
 * waiting {room, code}  → showRoom: 'K7Q-M2X', QR of http://host/?room=…, Copy link
 * Join form submit      → onJoin('K7QM2X')   (normalized; invalid input says why)
 * connected             → showSafetyCode('048 213')
 * ```
 *
 * The QR code is drawn as one SVG path from the `qrcode` package's module matrix: no canvas, no
 * inline markup, so it works under the page's CSP and in happy-dom.
 */
import QRCode from 'qrcode';

/** The code alphabet of the server's room codes (digits 2-9, letters without I, L, O). */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** Characters in a room code. */
export const CODE_LENGTH = 6;

/** A typed code in canonical form (upper case, no dashes or spaces), or undefined if it cannot be one. */
export function normalizeCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== CODE_LENGTH) return undefined;
  for (const c of code) if (!CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

/** `K7QM2X` → `K7Q-M2X`. */
export const displayCode = (code: string): string => (code.length === CODE_LENGTH ? `${code.slice(0, 3)}-${code.slice(3)}` : code);

const SVG = 'http://www.w3.org/2000/svg';

/**
 * A QR code of `text` as an `<svg>` (one path, dark modules on a light square with a 2-module
 * quiet zone), labelled for assistive technology.
 */
export function qrSvg(doc: Document, text: string, label: string): SVGSVGElement {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const quiet = 2;
  const full = size + quiet * 2;
  let d = '';
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) if (qr.modules.get(row, col)) d += `M${col + quiet} ${row + quiet}h1v1h-1z`;
  }
  const svg = doc.createElementNS(SVG, 'svg') as SVGSVGElement;
  svg.setAttribute('viewBox', `0 0 ${full} ${full}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('data-modules', String(size));
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = doc.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(full));
  background.setAttribute('height', String(full));
  background.setAttribute('fill', '#ffffff');
  const path = doc.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000000');
  svg.append(background, path);
  return svg;
}

/** The join block's elements (from index.html). */
export interface JoinElements {
  readonly code: HTMLElement;
  readonly qr: HTMLElement;
  readonly link: HTMLAnchorElement;
  readonly copyButton: HTMLButtonElement;
  readonly copyStatus: HTMLElement;
  readonly form: HTMLFormElement;
  readonly input: HTMLInputElement;
  readonly error: HTMLElement;
  readonly safety: HTMLElement;
}

/** What the page does with the join block. */
export interface JoinView {
  /** Shows the room: its code (if the server gave one), the link, its QR code. */
  showRoom(room: { readonly link: string; readonly code?: string }): void;
  /** Shows the safety code; `undefined` hides it. */
  showSafetyCode(sas: string | undefined): void;
  /** Shows why joining failed, next to the form. */
  showJoinError(text: string): void;
}

/**
 * Wires the join block. `onJoin` gets a normalized code when the form is submitted with one;
 * `copy` writes text to the clipboard (default `navigator.clipboard.writeText`, which needs a
 * secure context; without it the link is selected for the user to copy).
 */
export function createJoinView(doc: Document, els: JoinElements, onJoin: (code: string) => void, copy?: (text: string) => Promise<void>): JoinView {
  let link = '';
  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const code = normalizeCode(els.input.value);
    if (!code) {
      els.input.setAttribute('aria-invalid', 'true');
      els.error.textContent = `A code has ${CODE_LENGTH} letters and digits, like K7Q-M2X.`;
      return;
    }
    els.input.removeAttribute('aria-invalid');
    els.error.textContent = '';
    onJoin(code);
  });
  els.copyButton.addEventListener('click', () => {
    const write = copy ?? (doc.defaultView?.navigator.clipboard ? (t: string) => doc.defaultView!.navigator.clipboard.writeText(t) : undefined);
    const fallback = (): void => {
      doc.getSelection()?.selectAllChildren(els.link);
      els.copyStatus.textContent = 'Copying is not available here: the link is selected, copy it with the keyboard.';
    };
    if (!write) return fallback();
    write(link).then(() => (els.copyStatus.textContent = 'Link copied.'), fallback);
  });
  return {
    showRoom(room) {
      link = room.link;
      els.link.href = room.link;
      els.link.textContent = room.link;
      els.code.textContent = room.code ? displayCode(room.code) : '—';
      els.code.dataset.code = room.code ?? '';
      els.qr.replaceChildren(qrSvg(doc, room.link, `QR code of the room link ${room.link}`));
      els.copyButton.disabled = false;
    },
    showSafetyCode(sas) {
      els.safety.hidden = sas === undefined;
      const value = els.safety.querySelector<HTMLElement>('.safety-value');
      if (value) value.textContent = sas ?? '';
      els.safety.dataset.sas = sas ?? '';
    },
    showJoinError(text) {
      els.error.textContent = text;
    },
  };
}
