const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses `90s`, `15m`, `1h`, `1h30m`, `0s`. Returns milliseconds, or undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '' || (match[1] ?? match[2] ?? match[3]) === undefined) return undefined;
  const [h, m, s] = [match[1], match[2], match[3]].map((part) => Number(part ?? 0));
  return ((h! * 60 + m!) * 60 + s!) * 1000;
}

export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}
