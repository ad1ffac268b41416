import { setFlagsFromString } from 'node:v8';

/**
 * Grows the JavaScript heap by 30% over what a full GC left live, instead of V8's default
 * (up to about 2x and more on a large machine). Every cycle's results and snapshot live for one
 * cycle and then die in the old generation; with the default factor, an hour of one-minute cycles
 * at 10,000 series let the heap reach 366 MB around 130 MB of live data. Measured in `npm run
 * bench` (10,000 series): the infer-cycle peak RSS fell from 1,182 MB to 1,004 MB with the same
 * cycle time (0.36 s). Set once at start, while the heap is still small.
 */
export function tuneHeapForCycles(): void {
  setFlagsFromString('--heap-growing-percent=30');
}
