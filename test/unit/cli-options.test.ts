// The command line as one typed CliOptions, and messages that name an option the CLI's way at the
// source (no rewriting of the action's wording afterwards).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optionName, parseCommandLine } from '../../src/cli/options.ts';
import { RegistryRefused } from '../../src/registry/configure.ts';
import { actionInputName, InputError, parseSettings } from '../../src/settings/settings.ts';

test('the command line: inputs as given, the kubeconfig as a path, the CLI options typed', () => {
  const parsed = parseCommandLine(['--nodes', 'w-0', '--no-wait-for-operators', '--kubeconfig', '/tmp/kc', '--output', 'json', '--watch', '--metrics-address', ':9100']);
  assert.equal(parsed.kind, 'run');
  if (parsed.kind !== 'run') return;
  assert.deepEqual(parsed.options.inputs, { nodes: 'w-0', 'wait-for-operators': false });
  assert.equal(parsed.options.kubeconfigFile, '/tmp/kc');
  assert.equal(parsed.options.output, 'json');
  assert.equal(parsed.options.watch, true);
  assert.deepEqual(parsed.options.metrics, { address: ':9100', listen: { host: '', port: 9100 } });
  const defaults = parseCommandLine([]);
  assert.ok(defaults.kind === 'run' && defaults.options.output === 'text' && defaults.options.kubeconfigFile === undefined);
});

test('the command line refuses with the option named, or points at --help', () => {
  assert.deepEqual(parseCommandLine(['--output', 'yaml']), { kind: 'refused', message: "Option --output: 'yaml' is not a known value. Accepted: text, json." });
  const refused = parseCommandLine(['--metrics-address', ':9100']);
  assert.ok(refused.kind === 'refused' && refused.message.startsWith('Option --metrics-address: is only used with --watch.'));
  const grace = parseCommandLine(['--watch', '--metrics-address', ':9100', '--approval-failure-grace', '90s']);
  assert.ok(grace.kind === 'run' && grace.options.metrics?.approvalFailureGraceMs === 90_000);
  for (const [args, problem] of [
    [['--watch', '--approval-failure-grace', '5m'], 'is only used with --metrics-address'],
    [['--watch', '--metrics-address', ':9100', '--approval-failure-grace', 'soon'], "'soon' is not a duration"],
    [['--watch', '--metrics-address', ':9100', '--approval-failure-grace', '0s'], "'0s' is not a duration"],
  ] as const) {
    const refusedGrace = parseCommandLine(args);
    assert.ok(refusedGrace.kind === 'refused' && refusedGrace.message.startsWith(`Option --approval-failure-grace: ${problem}.`), JSON.stringify(refusedGrace));
  }
  const unknown = parseCommandLine(['--no-such-flag']);
  assert.ok(unknown.kind === 'refused' && unknown.message.endsWith('Run openshift-finish-install --help for the options.'));
  assert.deepEqual(parseCommandLine(['--version', '--output', 'yaml']), { kind: 'version' });
  assert.deepEqual(parseCommandLine(['--help']), { kind: 'help' });
});

test('an input error is worded for the entry point that reports it', () => {
  let error: unknown;
  try {
    parseSettings((name) => (name === 'nodes-timeout' ? 'soon' : ''));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof InputError);
  assert.match(error.message, /^Input 'nodes-timeout': 'soon' is not a duration\. Accepted: /);
  assert.equal(error.named(actionInputName), error.message);
  assert.match(error.named(optionName), /^Option --nodes-timeout: 'soon' is not a duration\. Accepted: /);
  const refused = new RegistryRefused('registry-pvc-claim', 'PersistentVolumeClaim openshift-image-registry/x does not exist; create it or set registry-pvc-size');
  assert.equal(refused.message, "Input 'registry-pvc-claim': PersistentVolumeClaim openshift-image-registry/x does not exist; create it or set registry-pvc-size");
  assert.equal(refused.named(optionName), 'Option --registry-pvc-claim: PersistentVolumeClaim openshift-image-registry/x does not exist; create it or set registry-pvc-size');
});
