// Regenerates everything derived: dist/index.js (one minified ESM bundle) and action.yml
// (from src/settings/inputs.ts). `--check` fails instead of writing when anything is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { renderActionYaml } from './action-yaml.ts';

const check = process.argv.includes('--check');
const result = await build({
  entryPoints: ['src/index.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  legalComments: 'none',
  write: false,
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __ofiCreateRequire } from 'node:module'; const require = __ofiCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
const outputs = new Map<string, string>([
  ['dist/index.js', result.outputFiles[0]!.text],
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
    writeFileSync(path, text);
  }
}
if (check && stale.length > 0) {
  console.error(`stale generated files: ${stale.join(', ')}; run npm run build and commit them`);
  process.exit(1);
}
console.log(check ? 'generated files are current' : `built ${[...outputs.keys()].join(', ')} (bundle ${(outputs.get('dist/index.js')!.length / 1024).toFixed(0)} KiB)`);
