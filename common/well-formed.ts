/**
 * Lone UTF-16 surrogates (possible in JSON input: a label value, an alert) become U+FFFD, so that
 * encodeURIComponent, which throws on them, and every encoder after it get a well-formed string.
 */
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
