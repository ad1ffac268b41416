import { averagePathLength } from './average-path-length';
import { Prng } from './prng';
import { decodeState, encodeState } from './typed-array-codec';
import { FeatureMatrix, NotEnoughDataError, StateFormatError } from './types';

export interface IsolationForestOptions {
  /** Number of isolation trees (t in the paper). */
  trees: number;
  /** Subsample size per tree (ψ in the paper), drawn without replacement. */
  sampleSize: number;
  seed: number;
}

/** Forest state with its typed arrays; JSON goes through encodeState (base64), threads take it as is. */
export interface IsolationForestState {
  trees: number;
  sampleSize: number;
  seed: number;
  psi: number;
  cols: number;
  treeStart: Uint32Array;
  leafStart: Uint32Array;
  nodes: Int32Array;
  leaves: Uint8Array;
  gridMin: Float64Array;
  gridScale: Float64Array;
}

/**
 * Layout. Internal nodes: one Int32 word each, all trees in preorder; leaves: one byte each
 * (sample count - 1), in left-to-right order.
 *   bits 27-31  feature (so at most 32 features)
 *   bit  26     the left child is a leaf (else it is the next internal node)
 *   bit  25     the right child is a leaf
 *   bits 16-24  right child: its leaf index if a leaf, else its node offset from the tree's first
 *   bits  0-15  threshold in grid units
 * A left leaf's index is not stored: it is the number of leaves left of the current subtree,
 * which the walk keeps (going right past a left subtree of k internal nodes passes k+1 leaves).
 * Thresholds live on a 16-bit grid spanning each feature's training range; a split is drawn
 * uniformly in the node's range as in the paper and rounded up to the grid, and the partition
 * uses the rounded threshold, so fit and score agree exactly. About 5.5 bytes per leaf+node pair
 * where a naive layout (Uint8 feature, Float32 threshold, Uint16 child, per node) takes 14.
 */
const LEFT_LEAF = 1 << 26;
const RIGHT_LEAF = 1 << 25;
const GRID = 65535;
export const MAX_FEATURES = 32;
export const MAX_SAMPLE_SIZE = 256;

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
 * `fit` replaces the whole forest.
 */
export class IsolationForest {
  readonly trees: number;
  readonly sampleSize: number;
  readonly seed: number;
  private psi = 0;
  private cols = 0;
  private treeStart: Uint32Array = new Uint32Array(0);
  private leafStart: Uint32Array = new Uint32Array(0);
  private nodes: Int32Array = new Int32Array(0);
  private leaves: Uint8Array = new Uint8Array(0);
  /** Per feature: training minimum and grid units per unit of the feature. */
  private gridMin: Float64Array = new Float64Array(0);
  private gridScale: Float64Array = new Float64Array(0);
  private normaliser = 1;
  private rowScratch = new Uint16Array(0);

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

  /** Total nodes, internal and leaves, over all trees. */
  get nodeCount(): number {
    return this.nodes.length + this.leaves.length;
  }

  /** Bytes held by the model's arrays. */
  get byteSize(): number {
    return (
      this.nodes.byteLength +
      this.leaves.byteLength +
      this.treeStart.byteLength +
      this.leafStart.byteLength +
      this.gridMin.byteLength +
      this.gridScale.byteLength
    );
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
    const g = new Uint16Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) g[c * rows + r] = toGrid(data[r * cols + c], gridMin[c], gridScale[c]);
    }

    const psi = Math.min(this.sampleSize, rows);
    const rng = new Prng(this.seed);
    const out: TreeArrays = {
      nodes: new Int32Array(this.trees * (psi - 1)),
      leaves: new Uint8Array(this.trees * psi),
      nextNode: 0,
      nextLeaf: 0,
    };
    const treeStart = new Uint32Array(this.trees + 1);
    const leafStart = new Uint32Array(this.trees + 1);
    const perm = new Int32Array(rows);
    for (let i = 0; i < rows; i++) perm[i] = i;
    const idx = new Int32Array(psi);
    for (let t = 0; t < this.trees; t++) {
      // Partial Fisher-Yates: the first psi entries of perm become a sample without replacement.
      for (let k = 0; k < psi; k++) {
        const j = k + rng.nextInt(rows - k);
        const tmp = perm[k];
        perm[k] = perm[j];
        perm[j] = tmp;
        idx[k] = perm[k];
      }
      treeStart[t] = out.nextNode;
      leafStart[t] = out.nextLeaf;
      buildTree(g, rows, cols, idx, psi, rng, out);
    }
    treeStart[this.trees] = out.nextNode;
    leafStart[this.trees] = out.nextLeaf;

    this.psi = psi;
    this.cols = cols;
    this.normaliser = averagePathLength(psi);
    this.treeStart = treeStart;
    this.leafStart = leafStart;
    this.nodes = out.nodes.slice(0, out.nextNode);
    this.leaves = out.leaves.slice(0, out.nextLeaf);
    this.gridMin = gridMin;
    this.gridScale = gridScale;
    this.rowScratch = new Uint16Array(cols);
  }

  /** Path length in tree t of the row g[off..off+cols) (grid units): its leaf's depth plus c(leaf size). */
  private pathLength(t: number, g: Uint16Array, off: number): number {
    const nodes = this.nodes;
    const base = this.treeStart[t];
    const leafBase = this.leafStart[t];
    // The root is a leaf: nothing in this tree's sample could be separated.
    if (base === this.treeStart[t + 1]) return C_TABLE[this.leaves[leafBase] + 1];
    let i = base;
    let left = 0;
    let depth = 0;
    let leaf: number;
    for (;;) {
      const w = nodes[i];
      depth++;
      if (g[off + (w >>> 27)] >= (w & 0xffff)) {
        const x = (w >>> 16) & 0x1ff;
        if (w & RIGHT_LEAF) {
          leaf = x;
          break;
        }
        const j = base + x;
        left += j - i;
        i = j;
      } else {
        if (w & LEFT_LEAF) {
          leaf = left;
          break;
        }
        i++;
      }
    }
    return depth + C_TABLE[this.leaves[leafBase + leaf] + 1];
  }

  /**
   * Each feature's share in isolating the row starting at data[offset], written into `out` (one
   * per feature, non-negative, summing to 1): how much longer the row's mean path would be with
   * that feature at the middle of its training range and the others as they are (a counterfactual
   * attribution: "were this signal usual, how much less unusual would the row be"). A row that no
   * single feature makes shorter (an ordinary one) shares equally. Allocation-free.
   */
  contributions(data: Float64Array, offset: number, out: Float64Array): void {
    if (this.psi === 0) throw new Error('isolation forest is not fitted');
    const row = this.rowScratch;
    for (let c = 0; c < this.cols; c++) row[c] = toGrid(data[offset + c], this.gridMin[c], this.gridScale[c]);
    const meanPath = () => {
      let sum = 0;
      for (let t = 0; t < this.trees; t++) sum += this.pathLength(t, row, 0);
      return sum / this.trees;
    };
    const base = meanPath();
    let total = 0;
    for (let c = 0; c < this.cols; c++) {
      const kept = row[c];
      row[c] = GRID >>> 1;
      out[c] = Math.max(0, meanPath() - base);
      row[c] = kept;
      total += out[c];
    }
    for (let c = 0; c < this.cols; c++) out[c] = total > 0 ? out[c] / total : 1 / this.cols;
  }

  /** Mean path length E[h(x)] of the row starting at data[offset]. Allocation-free. */
  meanPathLength(data: Float64Array, offset: number): number {
    const row = this.rowScratch;
    for (let c = 0; c < this.cols; c++) row[c] = toGrid(data[offset + c], this.gridMin[c], this.gridScale[c]);
    let sum = 0;
    for (let t = 0; t < this.trees; t++) sum += this.pathLength(t, row, 0);
    return sum / this.trees;
  }

  /** s(x) = 2^(-E[h(x)] / c(ψ)), in (0, 1]; about 0.5 for ordinary points, near 1 for isolated ones. */
  scoreRow(data: Float64Array, offset: number): number {
    if (this.psi === 0) throw new Error('isolation forest is not fitted');
    return Math.pow(2, -this.meanPathLength(data, offset) / this.normaliser);
  }

  /** Scores every row. */
  score(x: FeatureMatrix, out?: Float64Array): Float64Array {
    if (this.psi === 0) throw new Error('isolation forest is not fitted');
    if (x.cols !== this.cols) throw new RangeError(`isolation forest was fitted on ${this.cols} features, got ${x.cols}`);
    const { rows, cols, data } = x;
    const result = out ?? new Float64Array(rows);
    const g = new Uint16Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) g[r * cols + c] = toGrid(data[r * cols + c], this.gridMin[c], this.gridScale[c]);
    }
    // Tree by tree over all rows (one tree's nodes stay in cache), summing in the same order as
    // meanPathLength, so a row scores the same either way.
    result.fill(0, 0, rows);
    for (let t = 0; t < this.trees; t++) for (let r = 0; r < rows; r++) result[r] += this.pathLength(t, g, r * cols);
    const k = -1 / (this.trees * this.normaliser);
    for (let r = 0; r < rows; r++) result[r] = Math.pow(2, result[r] * k);
    return result;
  }

  /** The forest's state; its arrays are shared, not copied (callers must not modify them). */
  toState(): IsolationForestState {
    return {
      trees: this.trees,
      sampleSize: this.sampleSize,
      seed: this.seed,
      psi: this.psi,
      cols: this.cols,
      treeStart: this.treeStart,
      leafStart: this.leafStart,
      nodes: this.nodes,
      leaves: this.leaves,
      gridMin: this.gridMin,
      gridScale: this.gridScale,
    };
  }

  /** Compact JSON: typed arrays as base64. */
  toJSON(): unknown {
    return encodeState(this.toState());
  }

  /** Loads a state from toState() or from parsed toJSON() output. */
  static load(input: unknown): IsolationForest {
    const state = decodeState(input) as IsolationForestState;
    const forest = new IsolationForest({ trees: state.trees, sampleSize: state.sampleSize, seed: state.seed });
    forest.psi = state.psi;
    forest.cols = state.cols;
    forest.normaliser = averagePathLength(state.psi);
    forest.treeStart = state.treeStart;
    forest.leafStart = state.leafStart;
    forest.nodes = state.nodes;
    forest.leaves = state.leaves;
    forest.gridMin = state.gridMin;
    forest.gridScale = state.gridScale;
    forest.rowScratch = new Uint16Array(state.cols);
    const ok =
      isTyped(forest.treeStart, 'Uint32Array') &&
      isTyped(forest.leafStart, 'Uint32Array') &&
      isTyped(forest.nodes, 'Int32Array') &&
      isTyped(forest.leaves, 'Uint8Array') &&
      isTyped(forest.gridMin, 'Float64Array') &&
      isTyped(forest.gridScale, 'Float64Array') &&
      forest.treeStart.length === state.trees + 1 &&
      forest.leafStart.length === state.trees + 1 &&
      forest.treeStart[state.trees] === forest.nodes.length &&
      forest.leafStart[state.trees] === forest.leaves.length &&
      forest.gridMin.length === state.cols &&
      forest.gridScale.length === state.cols;
    if (!ok) throw new StateFormatError('isolation forest state arrays are missing or have inconsistent lengths');
    const bad = forest.structureProblem();
    if (bad) throw new StateFormatError(`isolation forest state is corrupt: ${bad}`);
    return forest;
  }

  /**
   * What is wrong with a loaded forest's structure, if anything: the walk in pathLength trusts
   * it, so a node pointing back (a loop: the scorer would spin for ever), a child or leaf out of
   * range, an unknown feature or a non-finite grid would hang or misread. Every tree is walked as
   * the scorer walks it: children only forward, each internal node reached once.
   */
  private structureProblem(): string | undefined {
    if (!(this.trees >= 1 && this.psi >= 2 && this.psi <= MAX_SAMPLE_SIZE && this.cols >= 1 && this.cols <= MAX_FEATURES)) return 'sizes out of range';
    for (let c = 0; c < this.cols; c++)
      if (!Number.isFinite(this.gridMin[c]) || !Number.isFinite(this.gridScale[c]) || this.gridScale[c] < 0) return `feature ${c}'s grid is not finite`;
    const stack: number[] = [];
    for (let t = 0; t < this.trees; t++) {
      const base = this.treeStart[t];
      const end = this.treeStart[t + 1];
      const leafBase = this.leafStart[t];
      const leafCount = this.leafStart[t + 1] - leafBase;
      if (end < base || leafCount < 1) return `tree ${t} has a negative size`;
      if (leafCount !== end - base + 1) return `tree ${t} has ${leafCount} leaves for ${end - base} internal nodes`;
      if (end === base) continue;
      let visits = 0;
      stack.length = 0;
      stack.push(base, 0);
      while (stack.length) {
        const left = stack.pop()!;
        const i = stack.pop()!;
        if (++visits > end - base) return `tree ${t} reaches a node twice`;
        const w = this.nodes[i];
        if (w >>> 27 >= this.cols) return `tree ${t} splits on feature ${w >>> 27} of ${this.cols}`;
        const x = (w >>> 16) & 0x1ff;
        if (w & RIGHT_LEAF) {
          if (x >= leafCount) return `tree ${t} has a right leaf out of range`;
        } else {
          const j = base + x;
          if (j <= i || j >= end) return `tree ${t} has a right child out of order`;
          stack.push(j, left + (j - i));
        }
        if (w & LEFT_LEAF) {
          if (left >= leafCount) return `tree ${t} has a left leaf out of range`;
        } else {
          if (i + 1 >= end) return `tree ${t} has a left child out of range`;
          stack.push(i + 1, left);
        }
      }
    }
    return undefined;
  }
}

/**
 * A value in grid units, floored and clamped to 0..65535. Exact for our comparisons: thresholds
 * are integers from 1 to 65535, and for an integer q, v >= q exactly when floor(v) >= q; values
 * below the training range stay below every threshold, values above it stay above.
 */
function toGrid(v: number, min: number, scale: number): number {
  const x = Math.floor((v - min) * scale);
  return x < 0 ? 0 : x > GRID ? GRID : x;
}

/** Typed-array check that works across realms (worker threads, vm contexts), unlike instanceof. */
function isTyped(x: unknown, tag: string): boolean {
  return ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === `[object ${tag}]`;
}

interface TreeArrays {
  nodes: Int32Array;
  leaves: Uint8Array;
  nextNode: number;
  nextLeaf: number;
}

/** Scratch for buildTree: frames of (start, end, depth, parent, side). */
const FRAME = 5;
/** Depth-first, at most height limit + 1 frames are pending: 10 for ψ ≤ 256 (height 8). */
const stack = new Int32Array(FRAME * 16);
const untried = new Uint8Array(MAX_FEATURES);

/**
 * Builds one tree over idx[0..n) into out (internal nodes in preorder, leaves left to right).
 * Iterative with an explicit stack (a recursive closure was 2x slower). At each node a feature is
 * drawn among those not yet tried; if it is constant there it is dropped and another drawn, as
 * scikit-learn does: the same as drawing among the non-constant features, but it scans one column.
 */
function buildTree(g: Uint16Array, rows: number, cols: number, idx: Int32Array, n: number, rng: Prng, out: TreeArrays): void {
  const heightLimit = Math.ceil(Math.log2(n));
  const nodes = out.nodes;
  const firstNode = out.nextNode;
  const firstLeaf = out.nextLeaf;
  let top = 0;
  const push = (start: number, end: number, depth: number, parent: number, side: number) => {
    const o = FRAME * top++;
    stack[o] = start;
    stack[o + 1] = end;
    stack[o + 2] = depth;
    stack[o + 3] = parent;
    stack[o + 4] = side;
  };
  push(0, n, 0, -1, 0);
  while (top > 0) {
    const o = FRAME * --top;
    const start = stack[o];
    const end = stack[o + 1];
    const depth = stack[o + 2];
    const parent = stack[o + 3];
    const side = stack[o + 4]; // 0 left (or root), 1 right
    const size = end - start;
    let f = -1;
    let lo = 0;
    let hi = 0;
    let q = 0;
    if (depth < heightLimit && size > 1) {
      for (let c = 0; c < cols; c++) untried[c] = c;
      let remaining = cols;
      while (remaining > 0) {
        const pick = rng.nextInt(remaining);
        const c = untried[pick];
        untried[pick] = untried[--remaining];
        lo = GRID + 1;
        hi = -1;
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
      if (f >= 0) {
        q = Math.ceil(lo + rng.next() * (hi - lo));
        if (q <= lo) q = Math.floor(lo) + 1;
        // A range narrower than one grid step has nothing left to separate.
        if (q > hi) f = -1;
      }
    }
    if (f < 0) {
      const leaf = out.nextLeaf++;
      out.leaves[leaf] = size - 1;
      if (parent >= 0) nodes[parent] |= side === 1 ? RIGHT_LEAF | ((leaf - firstLeaf) << 16) : LEFT_LEAF;
      continue;
    }
    const node = out.nextNode++;
    if (parent >= 0 && side === 1) nodes[parent] |= (node - firstNode) << 16;
    // Partition in place: rows with g[f] < q go left.
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
    nodes[node] = (f << 27) | q;
    // Right first on the stack, so the left subtree is laid out (and its leaves counted) first.
    push(i, end, depth + 1, node, 1);
    push(start, i, depth + 1, node, 0);
  }
}
