/**
 * Reads a /api/v1/query_range answer as its bytes arrive, into typed arrays, without ever holding
 * the answer as one string or as JSON objects.
 *
 * Why: at 10,000 series × 1,440 steps one signal's answer is 117 MB. `JSON.parse` of it builds
 * 14 million `[t, "v"]` pairs (about a gigabyte) and blocks the event loop for seconds, and an
 * answer past Node's string limit (~537 MB) cannot be read at all. Here each chunk is scanned
 * once for structure (depth, strings, the `data.result` array); every element of `data.result`
 * is then read by a strict scanner straight into Float64Arrays. Whatever that scanner does not
 * expect (escapes in keys, exponents in times, unknown fields, malformed input) sends the one
 * element to `JSON.parse`, with the same checks as before, so the answer means exactly what
 * `JSON.parse` makes of it. The rest of the document (status, resultType, warnings…) is kept
 * apart, with `data.result` left empty, and parsed with `JSON.parse` at the end: it is small.
 */
import { RawSeries, ReaderError } from './reader';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const OBJECT = 1;
const ARRAY = 2;

/** Keys are remembered at depths 1 and 2 only, and only while short: enough to find data.result. */
const KEY_MAX = 16;
/** Powers of ten exact in a double: m / 10^k is then correctly rounded, as JSON.parse's is. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** 15 decimal digits always fit in 2^53, so the mantissa is exact. */
const MAX_FAST_DIGITS = 15;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Prometheus renders special floats as strings: "NaN", "+Inf", "-Inf". */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new ReaderError('parse', `sample value "${text.slice(0, 40)}" is not a number`);
  return v;
}

/** One element of data.result as JSON.parse gives it, checked and converted (the slow path). */
export function seriesFromItem(item: unknown, signal: string): RawSeries {
  const it = item as { metric?: Record<string, string>; values?: [number, string][] } | null;
  if (!it || typeof it !== 'object' || !Array.isArray(it.values)) throw new ReaderError('parse', `signal ${signal}: malformed series in result`);
  const labels: Record<string, string> = {};
  // __name__ is kept here; keepNamesWhenMixed decides over the whole answer whether it stays.
  for (const [k, v] of Object.entries(it.metric ?? {})) labels[k] = String(v);
  const n = it.values.length;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pair = it.values[i];
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'string') {
      throw new ReaderError('parse', `signal ${signal}: malformed sample ${JSON.stringify(pair)?.slice(0, 60)}`);
    }
    timestamps[i] = pair[0];
    values[i] = parseSampleValue(pair[1]);
  }
  return { labels, timestamps, values };
}

/** Marks an element that is not JSON (closeElement words the error). */
const SYNTAX = new ReaderError('parse', 'not JSON');
const EMPTY: RawSeries = { labels: {}, timestamps: new Float64Array(0), values: new Float64Array(0) };

export interface MatrixParserOptions {
  /** Distinct sample-time grids kept for sharing (series of one query share one grid, or a few with gaps). */
  maxGrids?: number;
  /** Only the series this keeps are kept (a replica's share); the others are dropped as they are parsed. */
  keep?: (labels: Record<string, string>) => boolean;
  /**
   * At most this many kept series: the one past it throws (kind too_many_series) as soon as it is
   * parsed, from write(), so the request is abandoned there and no more of the answer is read or
   * held. `limitName` says which limit it is in the message (e.g. reader.max_series).
   */
  maxSeries?: number;
  limitName?: string;
}

export class MatrixStreamParser {
  // Structure of the document, carried from chunk to chunk.
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Container kind per depth (1 = object, 2 = array), for the depths that are tracked (≤ 3). */
  private readonly kinds = new Uint8Array(4);
  /** The current member's key per object depth (1, 2); '' when unknown or too long. */
  private readonly keys = ['', '', '', ''];
  /** The string being read at depth ≤ 2 (a key once ':' follows): its bytes while short and plain. */
  private readonly str = Buffer.alloc(KEY_MAX);
  private strLength = 0;
  private strTracked = false;
  private strPlain = false;
  private strDepth = -1;
  private lastString = '';

  // Inside data.result: its elements are read as series, not kept in the envelope.
  private inResult = false;
  private resultArrays = 0;
  /** Between elements: 0 after '[', 1 after an element, 2 after ','. */
  private between = 0;
  /** The open element's bytes from earlier chunks (an element may span chunks). */
  private elementParts: Buffer[] = [];
  private elementOpen = false;

  private readonly envelope: Buffer[] = [];
  private readonly series: RawSeries[] = [];
  /**
   * The first element that is not JSON, and the first that is JSON but not a series. As with
   * JSON.parse of the whole answer, the first comes before anything the envelope says; the
   * second after it (a PromQL error or a wrong resultType is the better reason).
   */
  private syntaxError: ReaderError | undefined;
  private elementError: ReaderError | undefined;
  /** A break in the document's structure: the rest is not read. */
  private broken = false;
  private started = false;

  // Scratch arrays, reused from element to element, and the shared time grids.
  private scratchT = new Float64Array(1024);
  private scratchV = new Float64Array(1024);
  private readonly grids: Float64Array[] = [];
  private readonly maxGrids: number;
  private readonly keep?: (labels: Record<string, string>) => boolean;
  private readonly maxSeries: number;
  private readonly limitName: string;

  // Results of the number scanners, kept in fields so the hot loop allocates nothing.
  private pos = 0;
  private num = 0;

  constructor(
    private readonly signal: string,
    opts: MatrixParserOptions = {},
  ) {
    this.maxGrids = opts.maxGrids ?? 8;
    this.keep = opts.keep;
    this.maxSeries = opts.maxSeries ?? Infinity;
    this.limitName = opts.limitName ?? 'the series limit';
  }

  /** Takes the next chunk of the answer. The chunk is not kept past its elements (they are copied). */
  write(chunk: Buffer): void {
    if (this.broken) return;
    if (!this.started) {
      this.started = true;
      // A UTF-8 byte order mark before the document, as some proxies add (axios' text mode dropped it too).
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    const n = chunk.length;
    // Where the current run of envelope bytes, or the current element, starts in this chunk.
    let runStart = this.inResult ? -1 : 0;
    let elementStart = this.elementOpen ? 0 : -1;
    for (let i = 0; i < n; i++) {
      const c = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) {
          escaped = true;
          this.strPlain = false;
        } else if (c === QUOTE) {
          inString = false;
          if (this.strTracked) {
            // An escaped or long string never matches "data" or "result": such a document is read whole.
            this.lastString = this.strPlain ? this.str.toString('latin1', 0, this.strLength) : '\u0000';
            this.strTracked = false;
          }
        } else if (this.strTracked && this.strPlain) {
          if (this.strLength >= KEY_MAX || c >= 0x80) this.strPlain = false;
          else this.str[this.strLength++] = c;
        }
        continue;
      }
      if (this.inResult && depth === 3) {
        // Between the elements of data.result, or at the end of one.
        if (this.elementOpen && (c === COMMA || c === RBRACKET || isWhitespace(c))) {
          this.closeElement(chunk, elementStart, i);
          elementStart = -1;
        }
        if (isWhitespace(c)) continue;
        if (c === COMMA) {
          if (this.between !== 1) return this.break(depth);
          this.between = 2;
          continue;
        }
        if (c === RBRACKET) {
          if (this.between === 2) return this.break(depth);
          this.inResult = false;
          depth = 2;
          runStart = i;
          continue;
        }
        if (this.elementOpen) {
          // The element goes on (e.g. `{…}x`): its own parse will refuse it.
        } else {
          if (this.between === 1) return this.break(depth);
          this.elementOpen = true;
          this.between = 1;
          elementStart = i;
        }
        if (c === QUOTE) inString = true;
        else if (c === LBRACE || c === LBRACKET) depth++;
        else if (c === RBRACE) return this.break(depth);
        continue;
      }
      if (c === QUOTE) {
        inString = true;
        if (depth <= 2) {
          this.strTracked = true;
          this.strPlain = true;
          this.strLength = 0;
          this.strDepth = depth;
        }
      } else if (c === LBRACE || c === LBRACKET) {
        if (!this.inResult && depth === 2 && c === LBRACKET && this.isResultKey()) {
          // data.result opens: '[' stays in the envelope, its elements are read as series.
          this.envelope.push(chunk.subarray(runStart, i + 1));
          runStart = -1;
          this.inResult = true;
          this.resultArrays++;
          this.between = 0;
          depth = 3;
          continue;
        }
        depth++;
        if (depth <= 3) {
          this.kinds[depth] = c === LBRACE ? OBJECT : ARRAY;
          this.keys[depth] = '';
        }
      } else if (c === RBRACE || c === RBRACKET) {
        depth--;
        if (depth < 0) return this.break(depth);
      } else if (c === COLON && depth <= 2 && this.strDepth === depth) {
        this.keys[depth] = this.lastString;
      }
    }
    // Delivered chunks are never written to again, so the open element's tail is kept uncopied.
    if (this.elementOpen) this.elementParts.push(chunk.subarray(elementStart));
    if (runStart >= 0 && runStart < n) this.envelope.push(Buffer.from(chunk.subarray(runStart)));
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }

  /** The answer's series, or the error that explains why there are none. */
  end(): RawSeries[] {
    const envelopeText = Buffer.concat(this.envelope).toString('utf8');
    if (this.broken || this.inString || this.depth !== 0 || this.inResult || this.resultArrays > 1)
      throw new ReaderError('parse', `signal ${this.signal}: response is not JSON (starts with ${JSON.stringify(envelopeText.slice(0, 60))})`);
    const doc = this.parseEnvelope(envelopeText);
    if (this.elementError) throw this.elementError;
    // A document whose data.result this scanner did not recognise (say an escaped key) was kept
    // whole: its elements are read the slow way.
    const rest = (doc.data as { result: unknown[] }).result;
    for (const item of rest) this.add(this.share(seriesFromItem(item, this.signal)));
    return this.series;
  }

  /** Keeps a parsed series when it is wanted, and refuses the answer once the kept ones pass the limit. */
  private add(s: RawSeries): void {
    if (this.keep && !this.keep(s.labels)) return;
    this.series.push(s);
    if (this.series.length > this.maxSeries) {
      this.broken = true;
      throw new ReaderError(
        'too_many_series',
        `signal ${this.signal}: more than ${this.maxSeries} series (${this.limitName}): refused as soon as the answer passed it; narrow the query${this.limitName.startsWith('reader.') ? ' or raise the limit' : ' with a label matcher'}`,
      );
    }
  }

  private parseEnvelope(text: string): { data: { resultType?: unknown; result: unknown[] } } {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new ReaderError('parse', `signal ${this.signal}: response is not JSON (starts with ${JSON.stringify(text.slice(0, 60))})`);
    }
    if (this.syntaxError) throw this.syntaxError;
    const d = doc as { status?: unknown; error?: unknown; errorType?: unknown; data?: { resultType?: unknown; result?: unknown } };
    if (d?.status === 'error') {
      throw new ReaderError('promql', `signal ${this.signal}: ${String(d.errorType ?? 'error')}: ${String(d.error ?? 'unknown error')}`);
    }
    if (d?.status !== 'success' || !d.data || !Array.isArray(d.data.result)) {
      throw new ReaderError('parse', `signal ${this.signal}: response has no data.result`);
    }
    if (d.data.resultType !== 'matrix') {
      throw new ReaderError('promql', `signal ${this.signal}: expected a range vector result (matrix), got ${String(d.data.resultType)}`);
    }
    return d as { data: { resultType?: unknown; result: unknown[] } };
  }

  private isResultKey(): boolean {
    return this.kinds[1] === OBJECT && this.keys[1] === 'data' && this.kinds[2] === OBJECT && this.keys[2] === 'result';
  }

  private break(depth: number): void {
    this.depth = depth;
    this.broken = true;
  }

  /** An element of data.result ends before `end` in `chunk` (it began at `start`, or in earlier chunks when -1). */
  private closeElement(chunk: Buffer, start: number, end: number): void {
    this.elementOpen = false;
    let bytes: Buffer;
    if (this.elementParts.length === 0) bytes = chunk.subarray(start, end);
    else {
      this.elementParts.push(chunk.subarray(Math.max(0, start), end));
      bytes = Buffer.concat(this.elementParts);
      this.elementParts = [];
    }
    if (this.syntaxError) return;
    let parsed: RawSeries;
    try {
      parsed = this.readElement(bytes);
    } catch (err) {
      if (!(err instanceof ReaderError)) throw err;
      if (err === SYNTAX)
        this.syntaxError = new ReaderError('parse', `signal ${this.signal}: malformed series in result (${JSON.stringify(bytes.toString('utf8', 0, 60))})`);
      else this.elementError ??= err;
      return;
    }
    this.add(parsed);
  }

  private readElement(b: Buffer): RawSeries {
    let fast: RawSeries | undefined;
    try {
      fast = this.fastElement(b);
    } catch {
      // e.g. labels that are not JSON: the slow path below names the problem.
    }
    if (fast) return fast;
    let item: unknown;
    try {
      item = JSON.parse(b.toString('utf8'));
    } catch {
      throw SYNTAX;
    }
    // After a bad series only syntax matters (the first error wins, as in JSON.parse's reading).
    if (this.elementError) return EMPTY;
    return this.share(seriesFromItem(item, this.signal));
  }

  /**
   * `{"metric":{…},"values":[[t,"v"],…]}`, in either order, with any JSON whitespace; undefined
   * for anything else, which then goes to JSON.parse.
   */
  private fastElement(b: Buffer): RawSeries | undefined {
    const end = b.length;
    let p = skipWs(b, 0, end);
    if (b[p] !== LBRACE) return undefined;
    p = skipWs(b, p + 1, end);
    let labels: Record<string, string> | undefined;
    let count = -1;
    for (;;) {
      if (b[p] !== QUOTE) return undefined;
      const keyStart = p + 1;
      const keyEnd = b.indexOf(QUOTE, keyStart);
      if (keyEnd < 0 || keyEnd - keyStart !== 6) return undefined;
      const isMetric = b.toString('latin1', keyStart, keyEnd) === 'metric';
      const isValues = !isMetric && b.toString('latin1', keyStart, keyEnd) === 'values';
      p = skipWs(b, keyEnd + 1, end);
      if (b[p] !== COLON) return undefined;
      p = skipWs(b, p + 1, end);
      if (isMetric && labels === undefined) {
        const close = objectEnd(b, p, end);
        if (close < 0) return undefined;
        const parsed: unknown = JSON.parse(b.toString('utf8', p, close));
        labels = {};
        for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) labels[k] = String(v);
        p = close;
      } else if (isValues && count < 0) {
        count = this.fastPairs(b, p, end);
        if (count < 0) return undefined;
        p = this.pos;
      } else return undefined;
      p = skipWs(b, p, end);
      if (b[p] === COMMA) {
        p = skipWs(b, p + 1, end);
        continue;
      }
      if (b[p] !== RBRACE) return undefined;
      p = skipWs(b, p + 1, end);
      if (p !== end || count < 0) return undefined;
      break;
    }
    return { labels: labels ?? {}, timestamps: this.grid(count), values: this.scratchV.slice(0, count) };
  }

  /** `[[t,"v"],…]` at p into the scratch arrays; the count, with this.pos after the array, or -1. */
  private fastPairs(b: Buffer, p: number, end: number): number {
    if (b[p] !== LBRACKET) return -1;
    p = skipWs(b, p + 1, end);
    let k = 0;
    if (b[p] === RBRACKET) {
      this.pos = p + 1;
      return 0;
    }
    for (;;) {
      if (b[p] !== LBRACKET) return -1;
      p = skipWs(b, p + 1, end);
      if (!this.jsonNumber(b, p, end)) return -1;
      const t = this.num;
      p = skipWs(b, this.pos, end);
      if (b[p] !== COMMA) return -1;
      p = skipWs(b, p + 1, end);
      if (b[p] !== QUOTE) return -1;
      if (!this.sampleString(b, p + 1, end)) return -1;
      const v = this.num;
      p = skipWs(b, this.pos, end);
      if (b[p] !== RBRACKET) return -1;
      if (k === this.scratchT.length) this.growScratch();
      this.scratchT[k] = t;
      this.scratchV[k] = v;
      k++;
      p = skipWs(b, p + 1, end);
      if (b[p] === COMMA) {
        p = skipWs(b, p + 1, end);
        continue;
      }
      if (b[p] !== RBRACKET) return -1;
      this.pos = p + 1;
      return k;
    }
  }

  /** A JSON number at p (strict grammar); false for one it leaves to JSON.parse (exponents, long mantissas). */
  private jsonNumber(b: Buffer, p: number, end: number): boolean {
    let negative = false;
    if (b[p] === MINUS) {
      negative = true;
      p++;
    }
    if (p >= end || b[p] < ZERO || b[p] > NINE) return false;
    if (b[p] === ZERO && p + 1 < end && b[p + 1] >= ZERO && b[p + 1] <= NINE) return false;
    return this.digits(b, p, end, negative, true);
  }

  /**
   * The sample string after its opening quote, as parseSampleValue reads it; false for one with
   * escapes or non-ASCII bytes, or that is not a number (JSON.parse then reports it).
   */
  private sampleString(b: Buffer, p: number, end: number): boolean {
    const close = b.indexOf(QUOTE, p);
    if (close < 0 || close >= end) return false;
    let negative = false;
    let q = p;
    if (b[q] === MINUS || b[q] === PLUS) {
      negative = b[q] === MINUS;
      q++;
    }
    if (q < close && b[q] >= ZERO && b[q] <= NINE && this.digits(b, q, close, negative, false) && this.pos === close) {
      this.pos = close + 1;
      return true;
    }
    for (let i = p; i < close; i++) if (b[i] === BACKSLASH || b[i] >= 0x80) return false;
    const text = b.toString('latin1', p, close);
    const v = text === '+Inf' || text === 'Inf' ? Infinity : text === '-Inf' ? -Infinity : text === 'NaN' ? NaN : Number(text);
    if (Number.isNaN(v) && text !== 'NaN') return false;
    this.num = v;
    this.pos = close + 1;
    return true;
  }

  /**
   * `digits[.digits]` at p (p holds a digit). Exact for up to 15 significant digits (m / 10^k is
   * correctly rounded, as Number's result); longer ones, and exponents outside JSON-strict mode,
   * go through Number() on the text, which rounds the same way.
   */
  private digits(b: Buffer, p: number, end: number, negative: boolean, strict: boolean): boolean {
    const start = p;
    let m = 0;
    let count = 0;
    while (p < end && b[p] >= ZERO && b[p] <= NINE) {
      m = m * 10 + (b[p] - ZERO);
      count++;
      p++;
    }
    let frac = 0;
    if (p < end && b[p] === DOT) {
      p++;
      const fracStart = p;
      while (p < end && b[p] >= ZERO && b[p] <= NINE) {
        m = m * 10 + (b[p] - ZERO);
        count++;
        p++;
      }
      frac = p - fracStart;
      if (frac === 0) return false;
    }
    if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
      if (strict) return false;
      p++;
      if (p < end && (b[p] === PLUS || b[p] === MINUS)) p++;
      const expStart = p;
      while (p < end && b[p] >= ZERO && b[p] <= NINE) p++;
      if (p === expStart) return false;
      const v = Number(b.toString('latin1', start, p));
      this.num = negative ? -v : v;
      this.pos = p;
      return true;
    }
    if (count > MAX_FAST_DIGITS || frac >= POW10.length) {
      const v = Number(b.toString('latin1', start, p));
      this.num = negative ? -v : v;
    } else {
      const v = frac === 0 ? m : m / POW10[frac];
      this.num = negative ? -v : v;
    }
    this.pos = p;
    return true;
  }

  private growScratch(): void {
    const t = new Float64Array(this.scratchT.length * 2);
    t.set(this.scratchT);
    this.scratchT = t;
    const v = new Float64Array(this.scratchV.length * 2);
    v.set(this.scratchV);
    this.scratchV = v;
  }

  /** The scratch times as an array shared with earlier series on the same grid, or a new one. */
  private grid(count: number): Float64Array {
    for (let g = this.grids.length - 1; g >= 0; g--) {
      const known = this.grids[g];
      if (known.length === count && sameHead(known, this.scratchT, count)) return known;
    }
    const fresh = this.scratchT.slice(0, count);
    if (this.grids.length < this.maxGrids) this.grids.push(fresh);
    return fresh;
  }

  /** A slow-path series joins a known grid too. */
  private share(s: RawSeries): RawSeries {
    for (const known of this.grids) if (known.length === s.timestamps.length && sameHead(known, s.timestamps, known.length)) return { ...s, timestamps: known };
    if (this.grids.length < this.maxGrids) this.grids.push(s.timestamps);
    return s;
  }
}

function sameHead(a: Float64Array, b: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function skipWs(b: Buffer, p: number, end: number): number {
  while (p < end && isWhitespace(b[p])) p++;
  return p;
}

/** The index after the object that opens at p (string-aware), or -1. */
function objectEnd(b: Buffer, p: number, end: number): number {
  if (b[p] !== LBRACE) return -1;
  let depth = 0;
  let inString = false;
  for (let i = p; i < end; i++) {
    const c = b[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === LBRACE || c === LBRACKET) depth++;
    else if (c === RBRACE || c === RBRACKET) {
      depth--;
      if (depth === 0) return c === RBRACE ? i + 1 : -1;
    }
  }
  return -1;
}

/** A whole answer at once (tests, and callers that already hold the body). */
export function parseQueryRangeBody(body: string | Buffer, signal: string): RawSeries[] {
  const p = new MatrixStreamParser(signal);
  p.write(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return p.end();
}
