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

const line = (row: CsvCell[]) => `${row.map(field).join(',')}\r\n`;

/**
 * A CSV document (a header row, CRLF line ends, as RFC 4180 describes) as a stream of chunks, one per page of
 * rows, so an export of any size is written out as it is read instead of being held in memory whole.
 */
export async function* csvChunks<T>(header: string[], pages: AsyncIterable<T[]>, toRow: (item: T) => CsvCell[]): AsyncGenerator<string> {
  yield line(header);
  for await (const page of pages) {
    if (page.length > 0) yield page.map((item) => line(toRow(item))).join('');
  }
}
