/**
 * bench:detect's simulated on-call engineer: answers each false page once, at its first page,
 * with a "not an anomaly" silence over that run of false pages (a run as the event scorer counts
 * one: flagged rows outside every incident, gaps up to `merge` rows). A page within an incident
 * (or up to `grace` rows after it) is a true page and is left alone. The detector never sees the
 * labels: only the marks, as the exporter would see the operator's silences.
 */
import { readFileSync } from 'node:fs';
import { FeedbackOperator } from '../exporter/backtest/backtest';
import { FeedbackMark } from '../exporter/feedback/feedback-mark';

/** The event scorer's warm-up share (its --probation): pages in it are not counted. */
const WARM_UP = 0.15;

export interface OnCallOptions {
  /** Rows after an incident's last row that still count as it (the event scorer's grace: 3). */
  grace: number;
  /** Gaps within one run of flagged rows (the event scorer's merge: 3). */
  merge: number;
}

export class SimulatedOnCall implements FeedbackOperator {
  private readonly trueZone: Uint8Array;
  private open?: { mark: FeedbackMark; lastRow: number; lastTime: number };
  /** The last flagged row, and whether its run of flagged rows began as a true page. */
  private lastFlagged = -Infinity;
  private runBeganTrue = false;
  private made = 0;
  /** False pages answered with a mark. */
  marks = 0;

  constructor(
    labels: Uint8Array,
    /** Rows before this are not looked at (ASD's unlabelled training part). */
    private readonly fromRow: number,
    private readonly opts: OnCallOptions = { grace: 3, merge: 3 },
  ) {
    this.trueZone = new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      if (!labels[i]) continue;
      for (let j = i; j <= Math.min(labels.length - 1, i + opts.grace); j++) this.trueZone[j] = 1;
    }
  }

  /**
   * From a labelled CSV (`timestamp,…,label`): label per row. On-call answers the pages the event
   * scorer counts: from `scoreFrom` (unix seconds; ASD's labelled part), else after its warm-up
   * (the first 15 % of the rows, whose pages no score counts: a model still warming up).
   */
  static fromCsv(file: string, scoreFrom?: number): SimulatedOnCall {
    const lines = readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.length > 0);
    const head = lines[0].split(',').map((h) => h.trim());
    const li = head.indexOf('label');
    const ti = head.indexOf('timestamp');
    if (li < 0) throw new Error(`${file}: no label column`);
    const labels = new Uint8Array(lines.length - 1);
    let fromRow = scoreFrom === undefined ? Math.floor(labels.length * WARM_UP) : 0;
    lines.slice(1).forEach((l, i) => {
      const cells = l.split(',');
      labels[i] = Number(cells[li]) > 0 ? 1 : 0;
      if (scoreFrom !== undefined && Number(cells[ti]) < scoreFrom) fromRow = i + 1;
    });
    return new SimulatedOnCall(labels, fromRow);
  }

  afterRow(row: number, timeSeconds: number, score: number): readonly FeedbackMark[] {
    const flagged = score > 1;
    // A run of flagged rows is one alert: one that began as a true page and runs on past the
    // incident (its tail) sends no new page, and on-call, looking at a real incident, does not
    // mark it as a false one.
    if (flagged) {
      if (row - this.lastFlagged > this.opts.merge) this.runBeganTrue = this.trueZone[row] === 1;
      this.lastFlagged = row;
    }
    const falsePage = flagged && row >= this.fromRow && !this.trueZone[row] && !this.runBeganTrue;
    const open = this.open;
    if (open) {
      if (falsePage) {
        open.lastRow = row;
        open.lastTime = timeSeconds;
        return [];
      }
      // The run ends: the silence covers it up to its last false page. It ends where an incident
      // begins too, flagged or not: on-call does not call a real incident normal, and a silence
      // left open into it would teach the exporter the incident.
      if (row - open.lastRow > this.opts.merge || this.trueZone[row]) {
        this.open = undefined;
        return [{ ...open.mark, toSeconds: open.lastTime }];
      }
      return [];
    }
    if (!falsePage) return [];
    const mark: FeedbackMark = {
      id: `on-call-${++this.made}`,
      kind: 'false_positive',
      matchers: [],
      fromSeconds: timeSeconds,
      toSeconds: Infinity,
      exact: true,
      createdBy: 'bench:detect simulated on-call',
    };
    this.marks++;
    this.open = { mark, lastRow: row, lastTime: timeSeconds };
    return [mark];
  }
}
