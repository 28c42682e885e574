/**
 * The `tallow-rx` executable: built by tsup as dist/cli.js (the package's `bin`); `qrcode` is
 * bundled into it, `ws` is a dependency, node-datachannel an optional peer dependency loaded by
 * send and receive.
 */
import { main } from './main';

const code = await main(process.argv.slice(2));
// Exit once stdout is flushed: open peer connections would keep the process alive.
process.stdout.write('', () => process.exit(code));
