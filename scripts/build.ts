// Regenerates everything derived: dist/index.js (one minified ESM bundle) and action.yml
// (from src/settings/inputs.ts). `--check` fails instead of writing when anything is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { renderActionYaml } from './action-yaml.ts';
import { builtinsByRequire, sideEffectFree } from './bundle-plugins.ts';

const check = process.argv.includes('--check');
// The version printed by `openshift-finish-install --version`: package.json is its only source.
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
// CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
const requireShim = "import { createRequire as __ofiCreateRequire } from 'node:module'; const require = __ofiCreateRequire(import.meta.url);";
async function bundle(entry: string, banner: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    write: false,
    banner: { js: banner },
    define: { __OFI_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
    plugins: [sideEffectFree, builtinsByRequire],
  });
  return result.outputFiles[0]!.text;
}
const outputs = new Map<string, string>([
  ['dist/index.js', await bundle('src/index.ts', requireShim)],
  ['dist/cli.js', await bundle('src/cli-main.ts', `#!/usr/bin/env node\n${requireShim}`)],
  ['action.yml', renderActionYaml()],
]);
const stale: string[] = [];
for (const [path, text] of outputs) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current === text) continue;
  stale.push(path);
  if (!check) {
    mkdirSync('dist', { recursive: true });
    writeFileSync(path, text, { mode: path.endsWith('cli.js') ? 0o755 : 0o644 });
  }
}
if (check && stale.length > 0) {
  console.error(`stale generated files: ${stale.join(', ')}; run npm run build and commit them`);
  process.exit(1);
}
console.log(check ? 'generated files are current' : `built ${[...outputs.keys()].join(', ')} (bundle ${(outputs.get('dist/index.js')!.length / 1024).toFixed(0)} KiB)`);
