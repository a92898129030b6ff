import type { ClusterOperatorInfo } from '../cluster/objects.ts';
import { formatDuration } from '../settings/duration.ts';

export interface OperatorState {
  readonly name: string;
  readonly available: string;
  readonly progressing: string;
  readonly degraded: string;
  /** The messages of the conditions that are not as wanted. */
  readonly message: string;
}

export function operatorState(operator: ClusterOperatorInfo): OperatorState {
  const find = (type: string) => operator.conditions.find((c) => c.type === type);
  const status = (type: string) => find(type)?.status ?? 'Missing';
  const wanted = { Available: 'True', Progressing: 'False', Degraded: 'False' } as const;
  const message = (Object.keys(wanted) as Array<keyof typeof wanted>)
    .filter((type) => status(type) !== wanted[type])
    .map((type) => {
      const condition = find(type);
      if (!condition) return `${type} condition missing`;
      return `${type}=${condition.status}${condition.reason ? ` (${condition.reason})` : ''}${condition.message ? `: ${condition.message}` : ''}`;
    })
    .join('; ');
  return { name: operator.name, available: status('Available'), progressing: status('Progressing'), degraded: status('Degraded'), message };
}

/** Stable as `oc adm wait-for-stable-cluster` defines it; a missing condition is unstable. */
export function isStable(state: OperatorState): boolean {
  return state.available === 'True' && state.progressing === 'False' && state.degraded === 'False';
}

export interface StabilityClock {
  /** When every watched operator last became stable together; undefined while any is unstable. */
  readonly stableSince: number | undefined;
  /** When the current unstable stretch began (the start of the wait, at first). */
  readonly unstableSince: number;
  /** Per operator, its last Available/Progressing/Degraded statuses (to print transitions only). */
  readonly last: ReadonlyMap<string, string>;
}

export function startClock(now: number): StabilityClock {
  return { stableSince: undefined, unstableSince: now, last: new Map() };
}

export interface Observation {
  readonly clock: StabilityClock;
  readonly transitions: readonly string[];
  readonly unstable: readonly OperatorState[];
  readonly ignored: readonly OperatorState[];
  readonly watchedCount: number;
  /** All watched operators stable for at least the stable period. */
  readonly done: boolean;
}

/**
 * Advances the clock with the operators seen at `now`: any unstable operator restarts it.
 * Pure: prints nothing, returns the transitions to print.
 */
export function observe(
  clock: StabilityClock,
  operators: readonly ClusterOperatorInfo[],
  ignore: readonly string[],
  stablePeriodMs: number,
  now: number,
): Observation {
  const { watched, unstable } = classifyOperators(operators, ignore);
  const transitions: string[] = [];
  const last = new Map<string, string>();
  for (const state of watched) {
    const key = `${state.available}/${state.progressing}/${state.degraded}`;
    const before = clock.last.get(state.name);
    last.set(state.name, key);
    if (before !== key && !(before === undefined && isStable(state))) transitions.push(`${state.name} ${describe(state)}`);
  }
  for (const name of clock.last.keys()) {
    if (!last.has(name)) transitions.push(`${name} disappeared`);
  }
  const allStable = unstable.length === 0 && watched.length > 0;
  let { stableSince, unstableSince } = clock;
  if (allStable && stableSince === undefined) {
    stableSince = now;
    transitions.push(`all ${watched.length} operators stable after ${formatDuration(now - unstableSince)}`);
  } else if (!allStable && stableSince !== undefined) {
    stableSince = undefined;
    unstableSince = now;
    transitions.push(`stability interrupted after ${formatDuration(now - clock.stableSince!)}; the stable period restarts`);
  }
  return {
    clock: { stableSince, unstableSince, last },
    transitions,
    ...operatorSnapshot(operators, ignore),
    done: allStable && now - stableSince! >= stablePeriodMs,
  };
}

function classifyOperators(operators: readonly ClusterOperatorInfo[], ignore: readonly string[]) {
  const states = operators.map(operatorState).sort((a, b) => a.name.localeCompare(b.name));
  const watched = states.filter((s) => !ignore.includes(s.name));
  const ignored = states.filter((s) => ignore.includes(s.name));
  return { watched, ignored, unstable: watched.filter((s) => !isStable(s)) };
}

export interface OperatorSnapshot {
  /** The watched operators not stable now; a placeholder `(none)` when no operator is watched. */
  readonly unstable: readonly OperatorState[];
  readonly ignored: readonly OperatorState[];
  readonly watchedCount: number;
}

/** The operators as they are now, without a clock: what a report shows at any moment. */
export function operatorSnapshot(operators: readonly ClusterOperatorInfo[], ignore: readonly string[]): OperatorSnapshot {
  const { watched, ignored, unstable } = classifyOperators(operators, ignore);
  return {
    unstable: watched.length === 0 ? [{ name: '(none)', available: 'Missing', progressing: 'Missing', degraded: 'Missing', message: 'no ClusterOperators found' }] : unstable,
    ignored,
    watchedCount: watched.length,
  };
}

function describe(state: OperatorState): string {
  if (isStable(state)) return 'is stable';
  if (state.degraded === 'True') return `became degraded: ${state.message}`;
  if (state.available !== 'True') return `is not available: ${state.message}`;
  if (state.progressing !== 'False') return `is progressing: ${state.message}`;
  return `is unstable: ${state.message}`;
}
