/**
 * Label names as the Prometheus text exposition format (0.0.4) allows them: [a-zA-Z_][a-zA-Z0-9_]*,
 * not starting with "__" (reserved). A source may hand out others (Prometheus 3 allows any UTF-8
 * name, e.g. "dotted.name"; other servers allow "bad-name"); published as they are, one such name
 * makes Prometheus reject the whole scrape, so every score would vanish.
 */
const VALID = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The exposition-format name for a source label name: other characters become "_", a leading digit gets "_" before it; "" for an empty name. */
export function exposableLabelName(name: string): string {
  if (VALID.test(name) && !name.startsWith('__')) return name;
  if (name === '') return '';
  let out = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(out)) out = `_${out}`;
  // "__" is reserved for Prometheus' internal labels.
  while (out.startsWith('__')) out = out.slice(1);
  return out === '_' && name !== '_' ? `label_${out}` : out;
}
