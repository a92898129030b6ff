import { main } from './cli.ts';

// Watches and timers may still be winding down: the outcome is printed, so leave now.
process.exit(await main(process.argv.slice(2)));
