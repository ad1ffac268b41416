import { readFileSync } from 'node:fs';

/** One `timestamp,value` CSV file, rows in file order. */
export interface CsvSeries {
  file: string;
  /** The timestamp text of each row, as written (kept for the output). */
  timestampText: string[];
  /** Seconds since the epoch (UTC unless the text has an offset). */
  times: Float64Array;
  values: Float64Array;
  /** Rows whose time is not after the previous row's: repeats and steps back (e.g. DST). */
  outOfOrder: number[];
}

export class CsvError extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'CsvError';
  }
}

const NAIVE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/i;

/** A real calendar instant: `2026-13-45` or `2026-02-30 25:00` is refused, not rolled over. */
function validParts(y: string, mo: string, d: string, h: string, mi: string, sec = '0'): boolean {
  const [Y, M, D, H, I, S] = [y, mo, d, h, mi, sec].map(Number);
  const probe = new Date(Date.UTC(Y, M - 1, D, H, I, S));
  return (
    probe.getUTCFullYear() === Y &&
    probe.getUTCMonth() === M - 1 &&
    probe.getUTCDate() === D &&
    probe.getUTCHours() === H &&
    probe.getUTCMinutes() === I &&
    probe.getUTCSeconds() === S
  );
}

/** Parses `YYYY-MM-DD HH:MM[:SS]` (read as UTC), RFC 3339, or Unix seconds; NaN for anything else or an impossible date. */
export function parseTimestamp(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const m = NAIVE.exec(t);
  if (m)
    return validParts(m[1], m[2], m[3], m[4], m[5], m[6])
      ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0)) / 1000 + (m[7] ? Number(m[7]) : 0)
      : NaN;
  const r = RFC3339.exec(t);
  if (r && validParts(r[1], r[2], r[3], r[4], r[5], r[6])) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  return NaN;
}

/**
 * One CSV line's cells (RFC 4180): a cell in double quotes may hold commas and doubled quotes, so
 * `"1,234"` is one cell (and then not a number) rather than two cells read as 1 and 234.
 */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

export function readCsvSeries(file: string): CsvSeries {
  return parseCsvSeries(readFileSync(file, 'utf8'), file);
}

export function parseCsvSeries(text: string, file: string): CsvSeries {
  const lines = text.split(/\r?\n/);
  const header = csvCells(lines[0] ?? '').map((h) => h.toLowerCase());
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti < 0 || vi < 0) throw new CsvError(file, 1, `header must name the columns timestamp and value (found: ${header.join(', ') || 'nothing'})`);
  const timestampText: string[] = [];
  const times: number[] = [];
  const values: number[] = [];
  const outOfOrder: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = csvCells(line);
    if (cells.length !== header.length) throw new CsvError(file, i + 1, `expected ${header.length} columns (${header.join(', ')}), found ${cells.length}`);
    const tText = cells[ti];
    const t = parseTimestamp(tText);
    if (!Number.isFinite(t)) throw new CsvError(file, i + 1, `cannot parse timestamp "${tText}" (YYYY-MM-DD HH:MM[:SS] in UTC, RFC 3339 or Unix seconds)`);
    const vText = cells[vi];
    const v = vText === '' ? NaN : Number(vText);
    if (!Number.isFinite(v)) throw new CsvError(file, i + 1, `value "${vText}" is not a finite number`);
    if (times.length && t <= times[times.length - 1]) outOfOrder.push(i + 1);
    timestampText.push(tText);
    times.push(t);
    values.push(v);
  }
  if (times.length === 0) throw new CsvError(file, 2, 'no data rows');
  return { file, timestampText, times: Float64Array.from(times), values: Float64Array.from(values), outOfOrder };
}

/** A CSV of `timestamp` and one or more metric columns: one group's signals, rows in file order. */
export interface CsvTable {
  file: string;
  timestampText: string[];
  times: Float64Array;
  /** The metric columns, in file order (a `label` column is not one: it is ignored). */
  names: string[];
  columns: Float64Array[];
  outOfOrder: number[];
}

/** Metric column names become signal names: letters, digits and _. */
const COLUMN_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function readCsvTable(file: string): CsvTable {
  return parseCsvTable(readFileSync(file, 'utf8'), file);
}

/**
 * Parses `timestamp,<metric>…[,label]`: every column but `timestamp` and `label` is a metric; an
 * empty cell is a gap (NaN). A file with the one metric `value` is a single series (see
 * parseCsvSeries).
 */
export function parseCsvTable(text: string, file: string): CsvTable {
  const lines = text.split(/\r?\n/);
  const header = csvCells(lines[0] ?? '');
  const lower = header.map((h) => h.toLowerCase());
  const ti = lower.indexOf('timestamp');
  const metrics = header.map((h, i) => ({ h, i })).filter(({ i }) => i !== ti && lower[i] !== 'label');
  if (ti < 0 || metrics.length === 0)
    throw new CsvError(file, 1, `header must name the column timestamp and at least one metric column (found: ${header.join(', ') || 'nothing'})`);
  const seen = new Set<string>();
  for (const { h } of metrics) {
    if (!COLUMN_NAME.test(h)) throw new CsvError(file, 1, `column name "${h}" must be letters, digits and _ (it becomes a signal name)`);
    if (seen.has(h.toLowerCase())) throw new CsvError(file, 1, `column "${h}" appears twice`);
    seen.add(h.toLowerCase());
  }
  const timestampText: string[] = [];
  const times: number[] = [];
  const values: number[][] = metrics.map(() => []);
  const outOfOrder: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = csvCells(line);
    if (cells.length !== header.length) throw new CsvError(file, i + 1, `expected ${header.length} columns, found ${cells.length}`);
    const tText = cells[ti];
    const t = parseTimestamp(tText);
    if (!Number.isFinite(t)) throw new CsvError(file, i + 1, `cannot parse timestamp "${tText}" (YYYY-MM-DD HH:MM[:SS] in UTC, RFC 3339 or Unix seconds)`);
    metrics.forEach(({ h, i: col }, k) => {
      const vText = cells[col];
      const v = vText === '' ? NaN : Number(vText);
      if (vText !== '' && !Number.isFinite(v)) throw new CsvError(file, i + 1, `${h} "${vText}" is not a finite number`);
      values[k].push(v);
    });
    if (times.length && t <= times[times.length - 1]) outOfOrder.push(i + 1);
    timestampText.push(tText);
    times.push(t);
  }
  if (times.length === 0) throw new CsvError(file, 2, 'no data rows');
  return {
    file,
    timestampText,
    times: Float64Array.from(times),
    names: metrics.map(({ h }) => h),
    columns: values.map((v) => Float64Array.from(v)),
    outOfOrder,
  };
}

/** The header names two or more metric columns (besides timestamp and label): one group, not one series. */
export function isGroupHeader(headerLine: string): boolean {
  const cols = csvCells(headerLine).map((h) => h.toLowerCase());
  return cols.includes('timestamp') && cols.filter((c) => c !== 'timestamp' && c !== 'label').length >= 2;
}
