import type { EventRow } from './events.repository.js';

const HOUR_MS = 3600 * 1000;

/** RFC 5545 3.3.5 UTC form: 20300801T090000Z. */
export const icsDateTime = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** RFC 5545 3.3.11: backslash, semicolon and comma are escaped, line breaks become \n. */
export const icsText = (value: string) =>
  value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');

/**
 * RFC 5545 3.1: lines longer than 75 octets are folded by CRLF + one space; folds never split a UTF-8 character.
 */
export function foldLine(line: string): string {
  const pieces: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    // The space that starts a continuation line counts against its 75 octets.
    const limit = pieces.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      pieces.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  pieces.push(current);
  return pieces.join('\r\n ');
}

/** The event as an iCalendar object with one VEVENT, UTC times; a missing end time means a one-hour event. */
export function eventCalendar(event: EventRow, now: Date): string {
  const end = event.endTime ?? new Date(event.dateTime.getTime() + HOUR_MS);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Event Ticketing API//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    // The id alone is globally unique; the suffix only makes the UID look like RFC 5545's examples.
    `UID:${event.id}@event-ticketing-api`,
    `DTSTAMP:${icsDateTime(now)}`,
    `CREATED:${icsDateTime(event.createdAt)}`,
    `LAST-MODIFIED:${icsDateTime(event.updatedAt)}`,
    `DTSTART:${icsDateTime(event.dateTime)}`,
    `DTEND:${icsDateTime(end)}`,
    `SUMMARY:${icsText(event.title)}`,
    ...(event.description ? [`DESCRIPTION:${icsText(event.description)}`] : []),
    `LOCATION:${icsText(event.location)}`,
    `STATUS:${event.cancelledAt ? 'CANCELLED' : 'CONFIRMED'}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
