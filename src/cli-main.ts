// Checked before anything else loads: the bundle uses Node 24 APIs and would fail obscurely.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`openshift-finish-install needs Node.js 24 or later; this is ${process.version}.\n`);
  process.exit(1);
}
const { main } = await import('./cli/main.ts');
// Watches and timers may still be winding down: the outcome is printed, so leave now.
process.exit(await main(process.argv.slice(2)));
