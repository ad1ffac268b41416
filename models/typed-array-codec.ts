/**
 * Compact state encoding (DESIGN.md): typed arrays as base64 of their little-endian bytes,
 * not lists of JSON numbers. Pure code, no Buffer, so models/ stays free of Node APIs.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i];
    const b1 = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const b2 = i + 2 < bytes.length ? bytes[i + 2] : 0;
    chunk += ALPHABET[b0 >> 2] + ALPHABET[((b0 & 3) << 4) | (b1 >> 4)];
    chunk += i + 1 < bytes.length ? ALPHABET[((b1 & 15) << 2) | (b2 >> 6)] : '=';
    chunk += i + 2 < bytes.length ? ALPHABET[b2 & 63] : '=';
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

export function base64ToBytes(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Error('base64 length is not a multiple of 4');
  let pad = 0;
  if (text.endsWith('==')) pad = 2;
  else if (text.endsWith('=')) pad = 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const c0 = sextet(text, i);
    const c1 = sextet(text, i + 1);
    const c2 = text[i + 2] === '=' ? 0 : sextet(text, i + 2);
    const c3 = text[i + 3] === '=' ? 0 : sextet(text, i + 3);
    const triple = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
    if (o < out.length) out[o++] = (triple >> 16) & 255;
    if (o < out.length) out[o++] = (triple >> 8) & 255;
    if (o < out.length) out[o++] = triple & 255;
  }
  return out;
}

function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  const v = code < 128 ? LOOKUP[code] : -1;
  if (v < 0) throw new Error(`invalid base64 character at ${i}`);
  return v;
}

const CTORS = { Float64Array, Float32Array, Uint32Array, Int32Array, Uint16Array, Uint8Array } as const;
type CtorName = keyof typeof CTORS;

/** How bytes become base64 and back; the default is the pure one above, callers may pass a native one. */
export interface Base64Codec {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
}

export const PURE_BASE64: Base64Codec = { encode: bytesToBase64, decode: base64ToBytes };

/**
 * Replaces every typed array inside a plain object tree by `{$typed, base64}`, so the tree can go
 * through JSON.stringify compactly. `decodeState` reverses it (and passes typed arrays through,
 * so it also accepts a state that never went through JSON, e.g. one passed between threads).
 */
export function encodeState(value: unknown, codec: Base64Codec = PURE_BASE64): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = Object.prototype.toString.call(value).slice(8, -1) as CtorName;
    if (!(name in CTORS)) throw new Error(`cannot encode ${name}`);
    return { $typed: name, base64: codec.encode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map((v) => encodeState(v, codec));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encodeState(v, codec);
    return out;
  }
  return value;
}

export function decodeState(value: unknown, codec: Base64Codec = PURE_BASE64): unknown {
  if (ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((v) => decodeState(v, codec));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$typed === 'string' && typeof o.base64 === 'string') {
      const ctor = CTORS[o.$typed as CtorName];
      if (!ctor) throw new Error(`unknown typed array ${o.$typed}`);
      const bytes = codec.decode(o.base64);
      if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0) throw new Error('encoded array has a partial element');
      // Copy into a fresh, aligned buffer.
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new ctor(copy.buffer, 0, bytes.byteLength / ctor.BYTES_PER_ELEMENT);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodeState(v, codec);
    return out;
  }
  return value;
}

/** A Float64Array, also one that came through structured clone or decodeState. */
export function isFloat64Array(x: unknown): x is Float64Array {
  return Object.prototype.toString.call(x) === '[object Float64Array]';
}

/** A Float32Array, also one that came through structured clone or decodeState. */
export function isFloat32Array(x: unknown): x is Float32Array {
  return Object.prototype.toString.call(x) === '[object Float32Array]';
}
