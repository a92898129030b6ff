// The version check is a static import, not `await import()` of the rest: ES modules evaluate in
// import order, and a dynamic import would keep esbuild from leaving out unused library code.
import './cli/require-node.ts';
import { main } from './cli/main.ts';

// Watches and timers may still be winding down: the outcome is printed, so leave now.
process.exit(await main(process.argv.slice(2)));
