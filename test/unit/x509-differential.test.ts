// The approver's x509 reading against the signer's own: every request the policy would approve
// must read, in Go's crypto/x509 (test/x509diff/main.go, as kube-controller-manager parses and
// checks it), with the same CN, O and SANs, nothing else in the subject, and a valid signature.
// OFI_X509DIFF_SEED and OFI_X509DIFF_COUNT replay or widen a run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, type Verdict } from '../../src/identity/policy.ts';
import { ipBytes } from '../../src/net/address.ts';
import { parseCertificateRequest } from '../../src/identity/x509.ts';
import { corpus, policyContext } from '../x509diff/corpus.ts';
import { buildGoParser, readWithGo, type GoReading } from '../x509diff/go-parser.ts';

const SEED = Number(process.env.OFI_X509DIFF_SEED ?? 20261101);
const COUNT = Number(process.env.OFI_X509DIFF_COUNT ?? 12000);

const sorted = (list: readonly string[]) => [...list].sort();
const hex = (ip: string) => Buffer.from(ipBytes(ip)!).toString('hex');

/** Why Go's reading differs from what the policy approved, or undefined. */
function difference(request: string, go: GoReading): string | undefined {
  if (go.error) return `Go cannot parse it: ${go.error}`;
  if (!go.signatureValid) return `Go finds the signature invalid: ${go.signatureError}`;
  const ours = parseCertificateRequest(request);
  if (ours.commonNames.length !== 1 || go.cn !== ours.commonNames[0]) return `CN: Go ${JSON.stringify(go.cn)}, ours ${JSON.stringify(ours.commonNames)}`;
  if (JSON.stringify(sorted(go.o)) !== JSON.stringify(sorted(ours.organizations))) return `O: Go ${JSON.stringify(go.o)}, ours ${JSON.stringify(ours.organizations)}`;
  if (go.names.length !== 2) return `subject: Go reads ${JSON.stringify(go.names)}`;
  if (JSON.stringify(sorted(go.dns)) !== JSON.stringify(sorted(ours.dnsNames))) return `DNS: Go ${JSON.stringify(go.dns)}, ours ${JSON.stringify(ours.dnsNames)}`;
  if (JSON.stringify(sorted(go.ip)) !== JSON.stringify(sorted(ours.ipAddresses.map(hex)))) return `IP: Go ${JSON.stringify(go.ip)}, ours ${JSON.stringify(ours.ipAddresses)}`;
  if (go.email.length + go.uri.length + ours.emailAddresses.length + ours.uris.length > 0) return 'e-mail or URI SANs';
  return undefined;
}

test(`x509 differential: ${COUNT} generated and mutated requests (seed ${SEED}) read alike by the policy and Go's crypto/x509`, { timeout: 120_000 }, (t) => {
  const binary = buildGoParser();
  const started = Date.now();
  const entries = corpus(SEED, COUNT);
  const context = policyContext();
  const verdicts: Verdict[] = entries.map((e) => decide(e.csr, context));
  const readings = readWithGo(binary, entries.map((e) => e.csr.request));

  const failures: string[] = [];
  const reasons = new Map<string, number>();
  let approved = 0;
  let goParsed = 0;
  entries.forEach((entry, i) => {
    const verdict = verdicts[i]!;
    const go = readings[i]!;
    if (!go.error) goParsed++;
    const outcome = verdict.kind === 'refuse' ? verdict.reason : verdict.kind;
    reasons.set(outcome, (reasons.get(outcome) ?? 0) + 1);
    if (entry.legitimate && verdict.kind !== 'approve') failures.push(`#${i} ${entry.label}: a kubelet's own request is not approved (${outcome})`);
    if (verdict.kind !== 'approve') return;
    approved++;
    const why = difference(entry.csr.request, go);
    if (why) failures.push(`#${i} ${entry.label}: approved, but ${why}`);
  });
  const histogram = [...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`).join(', ');
  t.diagnostic(`seed ${SEED}: ${entries.length} requests, ${approved} approved (each read alike by Go), ${goParsed} parsed by Go, in ${Date.now() - started} ms`);
  t.diagnostic(`outcomes: ${histogram}`);
  console.log(`x509 differential: seed ${SEED}, ${entries.length} requests, ${approved} approved, ${goParsed} parsed by Go`);
  assert.ok(entries.length >= 10_000);
  assert.ok(approved >= entries.length / 10, `too few approvals (${approved}) for the comparison to mean much`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} disagreements (replay with OFI_X509DIFF_SEED=${SEED})`);
});
