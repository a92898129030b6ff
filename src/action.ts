import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { getExecOutput } from '@actions/exec';
import { logLine } from './escape.ts';
import { toOutputs } from './report/report.ts';
import { publish } from './shell/publish.ts';
import { SecretMask } from './shell/secrets.ts';
import { execute } from './shell/run.ts';
import { stopOnSignals } from './shell/signals.ts';

/** The GitHub Action shell: inputs in, the runbook, outputs and the job summary out. */
export async function run(): Promise<void> {
  // Every line this step prints passes logLine once, here: the runner reads commands in it. The
  // secrets are masked first (the runner masks too, but only what still reads as the secret).
  const secrets = new SecretMask();
  const line = (m: string) => logLine(secrets.mask(m));
  const log = { info: (m: string) => core.info(line(m)), warning: (m: string) => core.warning(line(m)), debug: (m: string) => core.debug(line(m)) };
  const { report, settings } = await execute((name) => core.getInput(name), {
    log,
    group: (title, fn) => core.group(logLine(title), fn),
    signal: stopOnSignals(log.warning),
    registerSecret: (secret) => {
      secrets.add(secret);
      core.setSecret(secret);
    },
    diagnosticsDir: join(process.env.RUNNER_TEMP || tmpdir(), `openshift-finish-install-diagnostics-${process.pid}`),
    inspect: ocAdmInspect,
  });
  publish(report, settings?.summary ?? core.getInput('summary').trim() !== 'false', {
    log,
    summaryFileExpected: true,
    outputs: (outcome) => {
      for (const [name, value] of Object.entries(toOutputs(outcome))) core.setOutput(name, value);
    },
    failed: (message) => core.setFailed(line(message)),
    succeeded: log.info,
  });
}

/** `oc adm inspect` of the unstable operators, where oc is installed; killed when `signal` aborts. */
async function ocAdmInspect(operators: string[], dir: string, kubeconfig: string, signal: AbortSignal): Promise<void> {
  const probe = await getExecOutput('oc', ['version', '--client'], { silent: true, ignoreReturnCode: true }).catch(() => undefined);
  if (!probe || probe.exitCode !== 0 || signal.aborted) return;
  const config = join(process.env.RUNNER_TEMP || tmpdir(), `ofi-inspect-${process.pid}.kubeconfig`);
  writeFileSync(config, kubeconfig, { mode: 0o600 });
  try {
    const args = ['adm', 'inspect', ...operators.map((o) => `clusteroperator/${o}`), `--dest-dir=${dir}`];
    await new Promise<void>((resolve, reject) => {
      const child = spawn('oc', args, { signal, stdio: 'ignore', env: { ...process.env, KUBECONFIG: config } });
      child.on('error', (error) => (error.name === 'AbortError' ? reject(new Error('stopped at the end of the budget')) : resolve()));
      child.on('close', () => resolve());
    });
  } finally {
    rmSync(config, { force: true });
  }
}
