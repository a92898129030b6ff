// Phase: image registry storage. Configured as soon as the operator has created its Config, then
// watched until the registry reports the storage and is Available.
import { DeadlineError } from '../errors.ts';
import { configureRegistry, waitForRegistry, waitForRegistryConfig, type RegistryOutcome } from '../registry/configure.ts';
import type { RegistryReadiness } from '../registry/plan.ts';
import { formatDuration } from '../settings/duration.ts';
import type { Settings } from '../settings/settings.ts';
import type { RunContext } from './context.ts';

export interface RegistryPhase {
  /** What was configured (undefined: registry-storage keep). */
  readonly configured: Promise<RegistryOutcome | undefined>;
  /** The registry's readiness at the end of the wait (undefined: nothing awaited, keep or dry-run). */
  readonly done: Promise<RegistryReadiness | undefined>;
}

/**
 * Starts the phase. registry-timeout bounds the wait for the Config from now, and the wait for the
 * registry's own work from when the nodes are done (`nodesDone` true): its pods run on them, so
 * until then the wait only observes.
 */
export function startRegistry(settings: Settings, nodesDone: Promise<boolean>, context: RunContext): RegistryPhase {
  const { gateway, log, signal, progress } = context;
  const request = settings.registry;
  if (request.storage === 'keep') return { configured: Promise.resolve(undefined), done: Promise.resolve(undefined) };
  const deadline = Date.now() + request.timeoutMs;
  let waitDeadline = Infinity;
  void nodesDone.then((ok) => {
    if (ok) waitDeadline = Math.max(deadline, Date.now() + request.timeoutMs);
  });
  log.info(`configuring image registry storage: ${request.storage}`);
  const configured = (async () => {
    const config = await waitForRegistryConfig(gateway, { deadline, pollIntervalMs: settings.pollIntervalMs, log, signal });
    const outcome = await configureRegistry(gateway, request, config, { dryRun: settings.dryRun, log, deadline, signal });
    progress.emit({ kind: 'registry-target', target: outcome.target, changed: outcome.changed });
    return outcome;
  })();
  const done = configured.then(async (outcome) => {
    if (settings.dryRun) return undefined;
    log.info('watching the image registry until it is ready');
    const readiness = await waitForRegistry(gateway, outcome.target, {
      deadline: () => waitDeadline,
      log,
      signal,
      onReadiness: (r) => progress.emit({ kind: 'registry-readiness', readiness: r }),
      onReady: () => progress.emit({ kind: 'milestone', at: Date.now(), event: 'registry ready' }),
    });
    if (!readiness.ready && !signal.aborted) {
      throw new DeadlineError(`Image registry not ready after registry-timeout ${formatDuration(request.timeoutMs)}: waiting for ${readiness.waitingFor}.`);
    }
    return readiness;
  });
  return { configured, done };
}
