/** The hash worker script's entry: serves requests on the worker's own scope (bundled into hashWorkerSource.ts). */
import { serveHashRequests, type HashWorkerScope } from './hashWorker';

serveHashRequests(globalThis as unknown as HashWorkerScope);
