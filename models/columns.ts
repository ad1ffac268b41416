import { FeatureMatrix } from './types';

/** The first column (the raw value) of a feature matrix, as its own array. */
export function firstColumn(m: FeatureMatrix): Float64Array {
  if (m.cols === 1) return m.data.subarray(0, m.rows);
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.data[r * m.cols];
  return out;
}
