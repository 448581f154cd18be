export type CsvCell = string | number | boolean | null | undefined;

/**
 * A cell a spreadsheet would run as a formula (OWASP "CSV injection") gets a leading single quote, so a
 * username like `=HYPERLINK(...)` shows as text on the door list instead of executing.
 */
function neutralise(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** RFC 4180: quote a field holding a comma, quote or line break, and double the quotes inside it. */
function field(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  const text = neutralise(String(cell));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV document with a header row and CRLF line ends, as RFC 4180 describes. */
export function toCsv(header: string[], rows: CsvCell[][]): string {
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
