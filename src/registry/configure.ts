import type { CallLimits, ClusterGateway } from '../cluster/gateway.ts';
import { DeadlineError } from '../errors.ts';
import type { RegistryConfig } from '../cluster/objects.ts';
import { statusOf } from '../cluster/errors.ts';
import type { Log } from '../log.ts';
import { InputError, type RegistryRequest } from '../settings/settings.ts';
import { DEFAULT_CLAIM, planRegistry, registryReadiness, type RegistryReadiness, type RegistryTarget } from './plan.ts';

/** A registry request the cluster's state makes impossible: names the input to change. */
export class RegistryRefused extends InputError {
  constructor(input: string, message: string) {
    super(input, message);
    this.name = 'RegistryRefused';
  }
}

export class RegistryUnavailable extends Error {}

const CAPABILITY_DISABLED =
  'the cluster has no imageregistry.operator.openshift.io Config kind: the ImageRegistry capability is disabled; set registry-storage: keep';

/** How a registry call is made: as it comes (the preflight), or within the phase's deadline (callsUntil). */
type Caller = <T>(what: string, call: (limits: CallLimits) => Promise<T>) => Promise<T>;
const direct: Caller = (_what, call) => call({});

/** How long after the registry deadline a request still in flight is aborted: the last attempt's answer, if it comes, is the one to quote. */
const ABORT_AFTER_DEADLINE_MS = 1000;

/**
 * Calls that end at the registry deadline: each gets it (no retry after it) and a signal that
 * aborts its request in flight just after (a server answering 5xx or 429 forever, a stalled
 * one), and a call cut short so fails the phase as a timeout naming the call and its last
 * answer. A refusal (a 422, a 403) stays what it is, whenever it comes.
 */
function callsUntil(deadline: number, signal: AbortSignal | undefined): Caller {
  return async (what, call) => {
    const cutShort = (detail: string) => new DeadlineError(`Image registry not configured before registry-timeout: ${detail}.`);
    if (Date.now() >= deadline) throw cutShort(`${what} not attempted`);
    const timeout = AbortSignal.timeout(deadline - Date.now() + ABORT_AFTER_DEADLINE_MS);
    try {
      return await call({ deadline, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      const status = statusOf(error);
      const transient = status === undefined || status === 429 || status >= 500;
      if (signal?.aborted || Date.now() < deadline || !transient) throw error;
      throw cutShort(status === undefined ? `${what}: no answer from the API server` : (error as Error).message);
    }
  };
}

/** Plans against the Config and the claim it would use, as they are now; throws on a refusal. */
async function planNow(gateway: ClusterGateway, request: RegistryRequest, config: RegistryConfig, call: Caller = direct) {
  const claimName = request.storage === 'pvc' ? request.claim || DEFAULT_CLAIM : undefined;
  const claim = claimName ? await call(`read PersistentVolumeClaim openshift-image-registry/${claimName}`, (limits) => gateway.readPvc(claimName, limits)) : undefined;
  const plan = planRegistry(request, config, claim);
  if (plan.kind === 'refuse') throw new RegistryRefused(plan.input, plan.message);
  return plan;
}

export interface RegistryOutcome {
  readonly target: RegistryTarget;
  readonly changed: boolean;
}

/** Waits (polling) until the Config `cluster` exists; fails at once when its kind does not. */
export async function waitForRegistryConfig(
  gateway: ClusterGateway,
  options: { deadline: number; pollIntervalMs: number; log: Log; signal?: AbortSignal },
): Promise<RegistryConfig> {
  let logged = false;
  for (;;) {
    const config = await readUntil(gateway, options.deadline, options.signal);
    if (config === 'kind-missing') throw new RegistryUnavailable(CAPABILITY_DISABLED);
    if (config !== 'missing' && config !== 'deadline') return config;
    if (config === 'deadline' || Date.now() >= options.deadline || options.signal?.aborted) {
      throw new DeadlineError('the imageregistry Config "cluster" did not appear before registry-timeout; is the image registry operator running?');
    }
    if (!logged) options.log.info('waiting for the image registry operator to create its Config "cluster"');
    logged = true;
    await sleep(Math.min(options.pollIntervalMs, 2000, options.deadline - Date.now()), options.signal);
  }
}

/**
 * Refuses an impossible registry request before anything is written (approvals included): plans
 * against the Config and claim as they are now, when the Config exists already. Returns the
 * planned target (undefined while the Config does not exist), so a report can show it from the start.
 */
export async function precheckRegistry(gateway: ClusterGateway, request: RegistryRequest): Promise<RegistryTarget | undefined> {
  const config = await gateway.readRegistryConfig();
  if (config === 'kind-missing') throw new RegistryUnavailable(CAPABILITY_DISABLED);
  return config === 'missing' ? undefined : (await planNow(gateway, request, config)).target;
}

/**
 * Plans against the current Config and claim, then (unless dry-run) creates the claim and patches;
 * every call within `deadline` (registry-timeout), when given.
 */
export async function configureRegistry(
  gateway: ClusterGateway,
  request: RegistryRequest,
  config: RegistryConfig,
  options: { dryRun: boolean; log: Log; deadline?: number; signal?: AbortSignal },
): Promise<RegistryOutcome> {
  const call = options.deadline === undefined ? direct : callsUntil(options.deadline, options.signal);
  const plan = await planNow(gateway, request, config, call);
  for (const note of plan.notes) options.log.info(note);
  const { target } = plan;
  const words = `${target.storage}${target.claim ? ` (claim ${target.claim})` : ''}, rolloutStrategy ${target.rolloutStrategy}, replicas ${target.replicas}`;
  if (!plan.patch && !plan.createClaim) {
    options.log.info(`registry already Managed with ${words}: nothing to change`);
    return { target, changed: false };
  }
  if (options.dryRun) {
    if (plan.createClaim) options.log.info(`would create PersistentVolumeClaim ${plan.createClaim.name} (${plan.createClaim.size}, ${plan.createClaim.accessMode}) (dry-run)`);
    if (plan.patch) options.log.info(`would patch the registry Config: ${JSON.stringify(plan.patch)} (dry-run)`);
    return { target, changed: false };
  }
  if (plan.createClaim) {
    const claim = plan.createClaim;
    await call(`create PersistentVolumeClaim openshift-image-registry/${claim.name}`, (limits) => gateway.createPvc(claim, limits));
    options.log.info(`created PersistentVolumeClaim openshift-image-registry/${plan.createClaim.name} (${plan.createClaim.size}, ${plan.createClaim.accessMode})`);
  }
  if (plan.patch) {
    const patch = plan.patch;
    await call('patch imageregistry Config cluster', (limits) => gateway.patchRegistryConfig(patch, limits));
    options.log.info(`patched the registry Config: Managed with ${words}`);
  }
  return { target, changed: true };
}

/**
 * Polls the Config until the registry itself reports the target and is Available, or the deadline.
 * `deadline` is asked on every poll: it may be Infinity at first (observing only) and set later.
 */
export async function waitForRegistry(
  gateway: ClusterGateway,
  target: RegistryTarget,
  options: { deadline: () => number; log: Log; signal?: AbortSignal; onReady?: () => void; onReadiness?: (readiness: RegistryReadiness) => void },
): Promise<RegistryReadiness> {
  let last = '';
  for (;;) {
    const config = await readUntil(gateway, options.deadline(), options.signal);
    if (config === 'deadline') return { ready: false, waitingFor: last || 'the registry (no answer from the API server before registry-timeout)' };
    const readiness =
      typeof config === 'string' ? { ready: false, waitingFor: 'the Config "cluster" to exist' } : registryReadiness(config, target);
    options.onReadiness?.(readiness);
    if (readiness.ready) {
      options.log.info('image registry is Available with the requested storage');
      options.onReady?.();
      return readiness;
    }
    if (readiness.waitingFor !== last) options.log.info(`registry: waiting for ${readiness.waitingFor}`);
    last = readiness.waitingFor;
    if (Date.now() >= options.deadline() || options.signal?.aborted) return readiness;
    await sleep(Math.min(1000, options.deadline() - Date.now()), options.signal);
  }
}

/**
 * One read of the Config that ends at the deadline: a request in flight then (a stalled API
 * server, a long Retry-After) is aborted, not waited for, so the gate fails on time.
 */
async function readUntil(gateway: ClusterGateway, deadline: number, signal?: AbortSignal): Promise<RegistryConfig | 'kind-missing' | 'missing' | 'deadline'> {
  const finite = Number.isFinite(deadline);
  if (finite && Date.now() >= deadline) return 'deadline';
  const timeout = finite ? AbortSignal.timeout(Math.max(1, deadline - Date.now())) : undefined;
  const signals = [signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  try {
    return await gateway.readRegistryConfig({ ...(finite ? { deadline } : {}), ...(signals.length ? { signal: AbortSignal.any(signals) } : {}) });
  } catch (error) {
    if (timeout?.aborted && !signal?.aborted) return 'deadline';
    throw error;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
