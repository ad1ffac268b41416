import { averagePathLength } from './average-path-length';
import { Prng } from './prng';
import { decodeTypedArray, encodeTypedArray } from './typed-array-codec';
import { FeatureMatrix, NotEnoughDataError, StateFormatError } from './types';

export interface IsolationForestOptions {
  /** Number of isolation trees (t in the paper). */
  trees: number;
  /** Subsample size per tree (ψ in the paper), drawn without replacement. */
  sampleSize: number;
  seed: number;
}

export interface IsolationForestState {
  trees: number;
  sampleSize: number;
  seed: number;
  psi: number;
  cols: number;
  treeStart: string;
  nodes: string;
  gridMin: string;
  gridScale: string;
}

/**
 * Node word layout (one Int32 per node):
 *   leaf:      bit 31 set, bits 0-15 the leaf's sample count
 *   internal:  bits 26-30 feature, bits 16-25 offset of the right child from the tree's first
 *              node (the left child is always the next node), bits 0-15 the threshold in grid units
 * Thresholds live on a 16-bit grid spanning each feature's training range; a split is drawn
 * uniformly in the node's range as in the paper and rounded up to the grid, and the partition
 * uses the rounded threshold, so fit and score agree exactly. 4 bytes a node instead of 7-9.
 */
const LEAF_BIT = 0x80000000 | 0;
const GRID = 65535;
export const MAX_FEATURES = 31;
export const MAX_SAMPLE_SIZE = 512;

/** c(n) for every possible leaf size, so a leaf's path length is depth + one lookup. */
const C_TABLE = new Float64Array(MAX_SAMPLE_SIZE + 1);
for (let n = 0; n <= MAX_SAMPLE_SIZE; n++) C_TABLE[n] = averagePathLength(n);

/**
 * Isolation forest (Liu, Ting, Zhou, "Isolation Forest", ICDM 2008).
 *
 * Each tree is built on a subsample of ψ rows drawn without replacement, to a height limit of
 * ceil(log2 ψ). A node splits on a random feature among those not constant in the node, at a
 * threshold uniform between that feature's min and max there. The score of x is
 * s(x) = 2^(-E[h(x)] / c(ψ)), where h(x) is the depth of the leaf x falls in plus c(leaf size).
 * All trees live in one flat Int32Array in preorder. `fit` replaces the whole forest.
 */
export class IsolationForest {
  readonly trees: number;
  readonly sampleSize: number;
  readonly seed: number;
  private psi = 0;
  private cols = 0;
  private treeStart = new Uint32Array(0);
  private nodes = new Int32Array(0);
  /** Per feature: training minimum and grid units per unit of the feature. */
  private gridMin = new Float64Array(0);
  private gridScale = new Float64Array(0);
  private normaliser = 1;
  private rowScratch = new Float64Array(0);

  constructor(opts: IsolationForestOptions) {
    if (!Number.isInteger(opts.trees) || opts.trees < 1) throw new RangeError('trees must be a positive integer');
    if (!Number.isInteger(opts.sampleSize) || opts.sampleSize < 2 || opts.sampleSize > MAX_SAMPLE_SIZE) {
      throw new RangeError(`sampleSize must be an integer from 2 to ${MAX_SAMPLE_SIZE}`);
    }
    this.trees = opts.trees;
    this.sampleSize = opts.sampleSize;
    this.seed = opts.seed;
  }

  get fitted(): boolean {
    return this.psi > 0;
  }

  get featureCount(): number {
    return this.cols;
  }

  /** Total nodes over all trees (for memory accounting). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Bytes held by the model's arrays. */
  get byteSize(): number {
    return this.nodes.byteLength + this.treeStart.byteLength + this.gridMin.byteLength + this.gridScale.byteLength;
  }

  fit(x: FeatureMatrix): void {
    const { rows, cols, data } = x;
    if (rows < 2) throw new NotEnoughDataError('isolation_forest', rows, 2);
    if (cols < 1 || cols > MAX_FEATURES) throw new RangeError(`isolation forest takes 1 to ${MAX_FEATURES} features, got ${cols}`);
    const gridMin = new Float64Array(cols).fill(Infinity);
    const gridMax = new Float64Array(cols).fill(-Infinity);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = data[r * cols + c];
        if (!Number.isFinite(v)) throw new RangeError(`isolation forest input must be finite (row ${r}, feature ${c})`);
        if (v < gridMin[c]) gridMin[c] = v;
        if (v > gridMax[c]) gridMax[c] = v;
      }
    }
    const gridScale = new Float64Array(cols);
    for (let c = 0; c < cols; c++) gridScale[c] = gridMax[c] > gridMin[c] ? GRID / (gridMax[c] - gridMin[c]) : 0;
    // The training data in grid units, column-major (a node scans one feature at a time).
    const g = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) g[c * rows + r] = (data[r * cols + c] - gridMin[c]) * gridScale[c];
    }

    const psi = Math.min(this.sampleSize, rows);
    const rng = new Prng(this.seed);
    const nodes = new Int32Array(this.trees * (2 * psi - 1));
    const treeStart = new Uint32Array(this.trees + 1);
    const perm = new Int32Array(rows);
    for (let i = 0; i < rows; i++) perm[i] = i;
    const idx = new Int32Array(psi);
    let next = 0;
    for (let t = 0; t < this.trees; t++) {
      // Partial Fisher-Yates: the first psi entries of perm become a sample without replacement.
      for (let k = 0; k < psi; k++) {
        const j = k + rng.nextInt(rows - k);
        const tmp = perm[k];
        perm[k] = perm[j];
        perm[j] = tmp;
        idx[k] = perm[k];
      }
      treeStart[t] = next;
      next = buildTree(g, rows, cols, idx, psi, rng, nodes, next);
    }
    treeStart[this.trees] = next;

    this.psi = psi;
    this.cols = cols;
    this.normaliser = averagePathLength(psi);
    this.treeStart = treeStart;
    this.nodes = nodes.slice(0, next);
    this.gridMin = gridMin;
    this.gridScale = gridScale;
    this.rowScratch = new Float64Array(cols);
  }

  /** Mean path length E[h(x)] of the row starting at data[offset]. Allocation-free. */
  meanPathLength(data: Float64Array, offset: number): number {
    const cols = this.cols;
    const row = this.rowScratch;
    for (let c = 0; c < cols; c++) row[c] = (data[offset + c] - this.gridMin[c]) * this.gridScale[c];
    const nodes = this.nodes;
    const treeStart = this.treeStart;
    let sum = 0;
    for (let t = 0; t < this.trees; t++) {
      const base = treeStart[t];
      let i = base;
      let w = nodes[i];
      let depth = 0;
      while (w >= 0) {
        i = row[w >>> 26] < (w & 0xffff) ? i + 1 : base + ((w >>> 16) & 0x3ff);
        w = nodes[i];
        depth++;
      }
      sum += depth + C_TABLE[w & 0xffff];
    }
    return sum / this.trees;
  }

  /** s(x) = 2^(-E[h(x)] / c(ψ)), in (0, 1]; about 0.5 for ordinary points, near 1 for isolated ones. */
  scoreRow(data: Float64Array, offset: number): number {
    if (this.psi === 0) throw new Error('isolation forest is not fitted');
    return Math.pow(2, -this.meanPathLength(data, offset) / this.normaliser);
  }

  /**
   * Scores every row. Walks tree by tree over all rows, so each tree's nodes stay in cache
   * while the rows stream past: about twice as fast as row by row on 1,440 rows.
   */
  score(x: FeatureMatrix, out?: Float64Array): Float64Array {
    if (this.psi === 0) throw new Error('isolation forest is not fitted');
    if (x.cols !== this.cols) throw new RangeError(`isolation forest was fitted on ${this.cols} features, got ${x.cols}`);
    const { rows, cols, data } = x;
    const result = out ?? new Float64Array(rows);
    const g = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) g[r * cols + c] = (data[r * cols + c] - this.gridMin[c]) * this.gridScale[c];
    }
    result.fill(0, 0, rows);
    const nodes = this.nodes;
    for (let t = 0; t < this.trees; t++) {
      const base = this.treeStart[t];
      for (let r = 0, off = 0; r < rows; r++, off += cols) {
        let i = base;
        let w = nodes[i];
        let depth = 0;
        while (w >= 0) {
          i = g[off + (w >>> 26)] < (w & 0xffff) ? i + 1 : base + ((w >>> 16) & 0x3ff);
          w = nodes[i];
          depth++;
        }
        result[r] += depth + C_TABLE[w & 0xffff];
      }
    }
    const k = -1 / (this.trees * this.normaliser);
    for (let r = 0; r < rows; r++) result[r] = Math.pow(2, result[r] * k);
    return result;
  }

  toJSON(): IsolationForestState {
    return {
      trees: this.trees,
      sampleSize: this.sampleSize,
      seed: this.seed,
      psi: this.psi,
      cols: this.cols,
      treeStart: encodeTypedArray(this.treeStart),
      nodes: encodeTypedArray(this.nodes),
      gridMin: encodeTypedArray(this.gridMin),
      gridScale: encodeTypedArray(this.gridScale),
    };
  }

  static load(state: IsolationForestState): IsolationForest {
    const forest = new IsolationForest({ trees: state.trees, sampleSize: state.sampleSize, seed: state.seed });
    forest.psi = state.psi;
    forest.cols = state.cols;
    forest.normaliser = averagePathLength(state.psi);
    forest.treeStart = decodeTypedArray(state.treeStart, Uint32Array);
    forest.nodes = decodeTypedArray(state.nodes, Int32Array);
    forest.gridMin = decodeTypedArray(state.gridMin, Float64Array);
    forest.gridScale = decodeTypedArray(state.gridScale, Float64Array);
    forest.rowScratch = new Float64Array(state.cols);
    if (
      forest.treeStart.length !== state.trees + 1 ||
      forest.treeStart[state.trees] !== forest.nodes.length ||
      forest.gridMin.length !== state.cols ||
      forest.gridScale.length !== state.cols
    ) {
      throw new StateFormatError('isolation forest state arrays have inconsistent lengths');
    }
    return forest;
  }
}

/** Scratch for buildTree, grown on demand: frames of (start, end, depth, parent to patch). */
let stack = new Int32Array(4 * 64);
const untried = new Uint8Array(MAX_FEATURES);

/**
 * Builds one tree over idx[0..n) in preorder into nodes[first..], returns the next free index.
 * Iterative with an explicit stack (a recursive closure was 4x slower). At each node a feature is
 * drawn among those not yet tried; if it is constant there it is dropped and another drawn, as
 * scikit-learn does: the same as drawing among the non-constant features, but it scans one column.
 */
function buildTree(g: Float64Array, rows: number, cols: number, idx: Int32Array, n: number, rng: Prng, nodes: Int32Array, first: number): number {
  const heightLimit = Math.ceil(Math.log2(n));
  if (stack.length < 4 * (2 * heightLimit + 4)) stack = new Int32Array(4 * (2 * heightLimit + 4));
  let next = first;
  let top = 0;
  stack[0] = 0;
  stack[1] = n;
  stack[2] = 0;
  stack[3] = -1;
  top = 1;
  while (top > 0) {
    top--;
    const start = stack[4 * top];
    const end = stack[4 * top + 1];
    const depth = stack[4 * top + 2];
    const parent = stack[4 * top + 3];
    const node = next++;
    if (parent >= 0) nodes[parent] |= (node - first) << 16;
    const size = end - start;
    if (depth >= heightLimit || size <= 1) {
      nodes[node] = LEAF_BIT | size;
      continue;
    }
    for (let c = 0; c < cols; c++) untried[c] = c;
    let remaining = cols;
    let f = -1;
    let lo = 0;
    let hi = 0;
    while (remaining > 0) {
      const pick = rng.nextInt(remaining);
      const c = untried[pick];
      untried[pick] = untried[--remaining];
      lo = Infinity;
      hi = -Infinity;
      const column = c * rows;
      for (let r = start; r < end; r++) {
        const v = g[column + idx[r]];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi > lo) {
        f = c;
        break;
      }
    }
    if (f < 0) {
      nodes[node] = LEAF_BIT | size;
      continue;
    }
    let q = Math.ceil(lo + rng.next() * (hi - lo));
    if (q <= lo) q = Math.floor(lo) + 1;
    if (q > hi) {
      // The node's range is narrower than one grid step: nothing left to separate.
      nodes[node] = LEAF_BIT | size;
      continue;
    }
    // Partition in place: rows with g[f] < q first.
    const column = f * rows;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (g[column + idx[i]] < q) i++;
      else {
        const tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
        j--;
      }
    }
    nodes[node] = (f << 26) | q;
    // Right child first on the stack, so the whole left subtree is laid out right after this node.
    stack[4 * top] = i;
    stack[4 * top + 1] = end;
    stack[4 * top + 2] = depth + 1;
    stack[4 * top + 3] = node;
    top++;
    stack[4 * top] = start;
    stack[4 * top + 1] = i;
    stack[4 * top + 2] = depth + 1;
    stack[4 * top + 3] = -1;
    top++;
  }
  return next;
}
