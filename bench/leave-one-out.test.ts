import { leaveOneOut } from './leave-one-out';

describe('leave one corpus out', () => {
  it('chooses each threshold on the other corpora only, and reports it on the one left out', () => {
    const grid = [0.5, 1, 2];
    const r = leaveOneOut(grid, { a: [10, 20, 30], b: [30, 20, 10], c: [0, 50, 0] });
    // Without a: b and c average 15, 35, 5: threshold 1. Without c: a and b tie at 20 for all: the first wins.
    expect(r).toEqual([
      { heldOut: 'a', threshold: 1, score: 20, atOne: 20, best: 30 },
      { heldOut: 'b', threshold: 1, score: 20, atOne: 20, best: 30 },
      { heldOut: 'c', threshold: 0.5, score: 0, atOne: 50, best: 50 },
    ]);
  });
});
