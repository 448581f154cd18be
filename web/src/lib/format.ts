/** Dates in the viewer's own time zone, always with the zone named. */
export const viewerTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function formatDateTime(iso: string, zoneName: 'short' | 'long' = 'short'): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: zoneName,
  }).format(new Date(iso));
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
