// The database thread's entry point (see client.ts). A worker thread does not inherit tsx's
// loader from the thread that starts it, so it registers the loader before loading thread.ts.
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');
