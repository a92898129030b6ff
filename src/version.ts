import { readFileSync } from 'node:fs';

// scripts/build.ts replaces this name with package.json's version in the bundles; running from
// source (tests, `node src/...`), package.json is read instead. Either way package.json is the
// one place the version is written.
declare const __OFI_VERSION__: string | undefined;

export const VERSION: string =
  typeof __OFI_VERSION__ === 'string' ? __OFI_VERSION__ : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
