/** The server refused or dropped us (`code` is the error frame's code, or `full`, `closed`). */
export class RendezvousError extends Error {
  override readonly name = 'RendezvousError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
