import { ALLOW, Gate, refuse } from './gate';

/** Counts actions in flight; refuses a new one when `max` already run. */
export class ConcurrencyGate implements Gate {
  readonly name = 'concurrency';
  private running = 0;
  /** The cap; a config reload may change it while actions run. */
  constructor(public max: number) {}

  check() {
    return this.running < this.max ? ALLOW : refuse(`${this.running} actions are running; the cap is ${this.max}`);
  }

  get inFlight(): number {
    return this.running;
  }

  /** Marks an action started; call the returned function when it ends. */
  enter(): () => void {
    this.running++;
    let done = false;
    return () => {
      if (!done) this.running--;
      done = true;
    };
  }
}
