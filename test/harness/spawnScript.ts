/** Moved to harness/spawnScript.ts (shared with bench/ and examples/); re-exported for the specs that import it from here. */
export * from '../../harness/spawnScript';
