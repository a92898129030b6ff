import { run } from './action.ts';

// Watches and timers may still be winding down: the outcome is already written, so leave now.
await run();
process.exit(process.exitCode ?? 0);
