// OpenShift's own CRDs for the kinds the action reads and writes, installed unchanged (CEL rules
// included). They are generated manifests of the github.com/openshift/api Go module, pinned to a
// commit of a release branch by test/env/go/openshift-api-<release>/go.mod (and its go.sum),
// downloaded at test setup like any other dependency (DOMAIN 8).
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { goBinary, LEGS, type Leg } from './ensure.ts';

const run = promisify(execFile);

/** Folder of the module's generated manifests, the file-name stem of each CRD, and the legs it installs on (default both). */
const MANIFESTS: ReadonlyArray<{ dir: string; stem: string; legs?: readonly Leg[] }> = [
  { dir: 'config/v1/zz_generated.crd-manifests', stem: '0000_00_cluster-version-operator_01_clusteroperators' },
  { dir: 'config/v1/zz_generated.crd-manifests', stem: '0000_00_cluster-version-operator_01_clusterversions' },
  { dir: 'imageregistry/v1/zz_generated.crd-manifests', stem: '00_configs' },
  { dir: 'machineconfiguration/v1/zz_generated.crd-manifests', stem: '0000_80_machine-config_01_machineconfigpools' },
  // The cluster's networks and platform (what bounds machines listed without addresses). The
  // Infrastructure manifest's rules call CEL's isIP, which upstream Kubernetes has from 1.30
  // (k8s.io/apiserver 0.29 has no IP library; OpenShift 4.16's own API server takes the manifest):
  // a plain 1.29 API server would refuse the CRD, so the oldest leg has no Infrastructure kind,
  // and the action reads it as absent there.
  { dir: 'config/v1/zz_generated.crd-manifests', stem: '0000_10_config-operator_01_networks' },
  { dir: 'config/v1/zz_generated.crd-manifests', stem: '0000_10_config-operator_01_infrastructures', legs: ['current'] },
];

export interface Crd {
  metadata: { name: string };
  spec: { group: string; versions: { name: string }[]; names: { plural: string; kind: string } };
}

const loaded = new Map<Leg, Promise<Crd[]>>();

export function openshiftCrds(leg: Leg): Promise<Crd[]> {
  let crds = loaded.get(leg);
  if (!crds) loaded.set(leg, (crds = load(leg)));
  return crds;
}

async function load(leg: Leg): Promise<Crd[]> {
  const root = await moduleDir(LEGS[leg].openshiftApi);
  return Promise.all(MANIFESTS.filter((m) => m.legs?.includes(leg) ?? true).map(async ({ dir, stem }) => {
    const file = await pickManifest(join(root, dir), stem);
    const docs = parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS()).filter(Boolean);
    if (docs.length !== 1 || docs[0].kind !== 'CustomResourceDefinition') throw new Error(`${file}: expected one CustomResourceDefinition`);
    return docs[0] as Crd;
  }));
}

/**
 * The Default feature set's manifest: `<stem>-Default.crd.yaml`, or `<stem>.crd.yaml` where the
 * kind has no feature-set variants (file names move between releases).
 */
async function pickManifest(dir: string, stem: string): Promise<string> {
  const files = await readdir(dir);
  const name = [`${stem}-Default.crd.yaml`, `${stem}.crd.yaml`].find((f) => files.includes(f));
  if (!name) throw new Error(`no Default manifest for ${stem} in ${dir} (have: ${files.filter((f) => f.startsWith(stem)).join(', ') || 'none'})`);
  return join(dir, name);
}

/** `go mod download -json`: fetches the pinned module (verified against go.sum) and names its folder. */
async function moduleDir(module: string): Promise<string> {
  const cwd = fileURLToPath(new URL(`./go/${module}/`, import.meta.url));
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' };
  const { stdout } = await run(goBinary().path, ['mod', 'download', '-json', 'github.com/openshift/api'], { cwd, env }).catch((e: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`downloading github.com/openshift/api for ${module} failed: ${e.stderr || e.stdout || e.message}`);
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download github.com/openshift/api (${module}): ${info.Error ?? 'no folder'}`);
  return info.Dir;
}
