/**
 * `tallow-rx`: the command line (send, receive, serve) as a function of its
 * arguments; bin.ts runs it. Exit codes in exitCodes.ts; flags in usage.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './exitCodes';
import { MissingPeerDependencyError } from './loadPeerConnection';
import { RendezvousError } from './joinRoom';
import { receiveCommand } from './receiveCommand';
import { sendCommand } from './sendCommand';
import { serveCommand } from './serveCommand';
import { USAGE } from './usage';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  server: { type: 'string' },
  lanes: { type: 'string' },
  relay: { type: 'boolean' },
  'bind-address': { type: 'string' },
  timeout: { type: 'string' },
  profile: { type: 'string' },
  'no-qr': { type: 'boolean' },
  to: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  host: { type: 'string' },
  port: { type: 'string' },
  redis: { type: 'string' },
  'turn-url': { type: 'string', multiple: true },
  'turn-secret': { type: 'string' },
  'turn-ttl': { type: 'string' },
  'code-ttl': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  'trust-proxy': { type: 'boolean' },
} as const;

/** Which flags each command takes (anything else is a usage error). */
const ALLOWED: Record<string, readonly string[]> = {
  send: ['server', 'lanes', 'relay', 'bind-address', 'timeout', 'profile', 'no-qr'],
  receive: ['server', 'lanes', 'relay', 'bind-address', 'timeout', 'to', 'yes'],
  serve: ['host', 'port', 'redis', 'turn-url', 'turn-secret', 'turn-ttl', 'code-ttl', 'allow-origin', 'trust-proxy'],
};

/** Runs the command line; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const stdout = process.stdout;
  const out = { stream: stdout, tty: stdout.isTTY === true, columns: () => stdout.columns || 80 };
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    if (values.version) {
      // dist/cli.js → ../package.json; src/cli/*.ts → ../../package.json.
      const file = ['../package.json', '../../package.json'].map((p) => new URL(p, import.meta.url)).find((u) => existsSync(u))!;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
      stdout.write(`${pkg.version}\n`);
      return 0;
    }
    const [command, ...rest] = positionals;
    if (!command) throw new UsageError('which command? send, receive or serve');
    const allowed = ALLOWED[command];
    if (!allowed) throw new UsageError(`unknown command: ${command}`);
    const extra = Object.keys(values).filter((k) => !allowed.includes(k));
    if (extra.length) throw new UsageError(`${command} does not take --${extra[0]}`);
    if (command === 'send') return await sendCommand(rest, values, out);
    if (rest.length > 1) throw new UsageError(`${command} takes ${command === 'receive' ? 'one code' : 'no arguments'}, got ${rest.join(' ')}`);
    if (command === 'receive') return await receiveCommand(rest[0], values, out, process.stdin.isTTY === true);
    if (rest.length) throw new UsageError('serve takes no arguments');
    return await serveCommand(values, stdout);
  } catch (error) {
    const e = error as Error & { code?: string };
    if (error instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      // Node's own text for an unknown flag ends in an unbalanced quote and a lesson on '--': ours names the flag.
      const unknown = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /^Unknown option '([^']*)'/.exec(e.message);
      process.stderr.write(`tallow-rx: ${unknown ? `unknown flag ${unknown[1]}` : e.message}\nRun tallow-rx --help for the commands and flags.\n`);
      return EXIT_USAGE;
    }
    if (error instanceof MissingPeerDependencyError || error instanceof RendezvousError) process.stderr.write(`tallow-rx: ${e.message}\n`);
    else process.stderr.write(`tallow-rx: failed: ${e.message}${e.code ? ` [${e.code}]` : ''}\n`);
    return EXIT_FAILED;
  }
}

