/** Runs the CLI's `main(args)` in this process and captures what it writes to stdout and stderr. */
import { vi } from 'vitest';
import { main } from '../../src/cli/main';

export async function runMain(args: string[]): Promise<{ code: number; output: string }> {
  const chunks: string[] = [];
  const capture = (chunk: unknown): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  try {
    return { code: await main(args), output: chunks.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
