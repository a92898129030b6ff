// Imported first by cli-main.ts, so it runs before any other module of the bundle is evaluated:
// the bundle uses Node 24 APIs and would otherwise fail obscurely on an older Node.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`openshift-finish-install needs Node.js 24 or later; this is ${process.version}.\n`);
  process.exit(1);
}
