/**
 * Text from the other peer (file names, decline reasons, error messages), made safe to print on a
 * terminal: a sender controls its file names, and an escape sequence in one could recolour, move
 * the cursor, retitle the window or hide text; a bidirectional override could show `exe.txt` for
 * `txt.exe`.
 */

/** C0 and C1 control characters, DEL, and the bidirectional marks, overrides and isolates. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Returns `text` with every control character and bidirectional mark replaced by a visible
 * `\u{…}` escape; printable text (any script, emoji) is unchanged.
 *
 * ```
 * printable('a\x1b[2Jb')  // 'a\u{1b}[2Jb'
 * ```
 * @param text Text a peer chose.
 * @return The same text, safe to write to a terminal.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
