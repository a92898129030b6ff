// Two esbuild plugins that make the bundle start faster without changing what it does
// (measured in BENCHMARKS.md, "cold start"; per start on these machines, CPU 193 -> 122 ms).
import { builtinModules } from 'node:module';
import type { Plugin } from 'esbuild';

/**
 * Packages whose modules run no code on import beyond defining what they export, so esbuild may
 * leave out the ones nothing uses: client-node's generated API client (we take only KubeConfig)
 * and the @actions packages' HTTP and OIDC clients (we call neither). Their package.json files
 * declare no `sideEffects`, so without this the whole of each is bundled and run at start.
 */
const SIDE_EFFECT_FREE = /node_modules\/(@kubernetes\/client-node\/dist|@actions\/(core|exec|http-client|io)\/lib)\//;

export const sideEffectFree: Plugin = {
  name: 'side-effect-free',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'side-effect-free' || args.kind === 'entry-point') return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'side-effect-free' });
      if (resolved.errors.length > 0 || !SIDE_EFFECT_FREE.test(resolved.path)) return undefined;
      return { ...resolved, sideEffects: false };
    });
  },
};

const BUILTINS = new Set(builtinModules.map((name) => name.replace(/^node:/, '')));

/**
 * Node built-ins are taken with require() instead of `import`. Node builds an ESM facade for
 * each imported built-in by reading every export, and node:http's lazy WebSocket, CloseEvent
 * and MessageEvent exports then load Node's internal undici (about 40 ms per start here).
 * node:module stays an import: the banner takes createRequire from it.
 */
export const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (args.kind !== 'import-statement' || !BUILTINS.has(name) || name === 'module') return undefined;
      return { path: name, namespace: 'builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require('node:${args.path}');`, loader: 'js' }));
  },
};
