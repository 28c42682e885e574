/** The `--help` text: every command and flag. */
export const USAGE = `tallow-rx: send files between machines over WebRTC, verified with SHA-256.

Usage:
  tallow-rx send <path>… [options]     offer files and folders; prints a short code and a QR code
  tallow-rx receive <code> [options]   receive the files offered under <code> into a folder
  tallow-rx serve [options]            run the rendezvous server (rooms, codes, signalling)
  tallow-rx --help | --version

send and receive:
  --server <url>         the rendezvous server, http(s)://host:port (default: $TALLOW_RX_SERVER,
                         else http://127.0.0.1:8080); send prints the web page link and its QR
                         code when that server also serves the page
  --lanes <1-4>          peer connections to open (default 2; the pair uses the smaller number)
  --relay                only relayed (TURN) candidates: iceTransportPolicy 'relay'
  --bind-address <ip>    gather ICE candidates on this local address only (e.g. 127.0.0.1)
  --timeout <seconds>    give up if nobody joins / connects within this (default 600 / 20)

send only:
  --profile <name>       sendFiles profile: auto, lan, wifi, internet, poor, mobile (default auto)
  --no-qr                do not print the QR code of the web page link

receive only:
  --to <dir>             folder to save into, created if missing (default: the current folder).
                         Receiving again into the same folder resumes partial files.
  --yes, -y              accept without asking (without a terminal, offers are accepted)

serve:
  --host <address>       address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --port <port>          TCP port (default 8080; 0 picks a free one)
  --redis <url>          keep rooms in Redis so several instances serve them (default: $REDIS_URL)
  --turn-url <url>       a TURN server URL to hand out, e.g. turn:turn.example.org:3478 (repeatable)
  --turn-secret <s>      coturn's static-auth-secret (default: $TURN_SECRET)
  --turn-ttl <seconds>   lifetime of TURN credentials (default 3600)
  --code-ttl <seconds>   lifetime of a room code (default 600)
  --allow-origin <o>     a page origin allowed to use the socket, or '*' (repeatable; default: same origin)
  --trust-proxy          take the client address from X-Forwarded-For (behind a reverse proxy)

Both sides print a short authentication string ("SAS 048 213") once connected: read it to each
other; if the two differ, someone is in the middle: press Ctrl+C.

Ctrl+C during a transfer cancels it on both sides; receiving again into the same folder resumes it.

Exit codes: 0 verified, 1 failed, 2 usage error, 3 the peer declined, 130 interrupted.
`;
