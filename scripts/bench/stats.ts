// Small statistics and formatting helpers for the benchmark table.

export type Percentile = 'p50' | 'p95' | 'p99' | 'max';

/** A figure, possibly only a lower bound (a run stopped before every CSR was approved). */
export interface Figure { v: number | undefined; atLeast?: boolean }

export type Summary = Record<Percentile, Figure> & { n: number };

/**
 * Nearest-rank percentiles over the observed values and, for requests still pending when the
 * run was stopped, their lower bounds (time pending so far). Replacing each unknown value by a
 * lower bound can only lower an order statistic, so a percentile is exact when no bound is at or
 * below it, and a lower bound otherwise.
 */
export function summarize(observed: readonly number[], pending: readonly number[] = []): Summary {
  const all = [...observed.map((v) => ({ v, bound: false })), ...pending.map((v) => ({ v, bound: true }))].sort((a, b) => a.v - b.v);
  const minBound = pending.length ? Math.min(...pending) : Infinity;
  const at = (p: number): Figure => {
    if (all.length === 0) return { v: undefined };
    const v = all[Math.min(all.length - 1, Math.max(0, Math.ceil((p / 100) * all.length) - 1))]!.v;
    return { v, atLeast: v >= minBound };
  };
  return { n: all.length, p50: at(50), p95: at(95), p99: at(99), max: at(100) };
}

/** A duration in ms, with a precision that suits its size. */
export function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

export function num(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

export function mb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) || bytes <= 0 ? '—' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** a ÷ b as "0.52×"; "—" when either is missing; a bound when either is one ("≤", "≥"). */
export function ratio(a: Figure, b: Figure): string {
  if (a.v === undefined || b.v === undefined || !Number.isFinite(a.v) || !Number.isFinite(b.v) || b.v === 0) return '—';
  if (a.atLeast && b.atLeast) return '—';
  const r = a.v / b.v;
  const prefix = b.atLeast ? '≤ ' : a.atLeast ? '≥ ' : '';
  return `${prefix}${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r >= 0.01 ? r.toFixed(2) : r.toFixed(4)}×`;
}

/** Formats a figure with `format`, prefixed "≥ " when it is a lower bound. */
export function bound(f: Figure, format: (v: number | undefined) => string): string {
  return `${f.atLeast ? '≥ ' : ''}${format(f.v)}`;
}

/** A Markdown table (also readable as plain text). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
