/**
 * Polls Alertmanager's silences (alertmanager.url) and takes the marked ones into the feedback
 * book. A down or slow Alertmanager costs only the feedback: the poll is logged and visible in
 * anomaly_exporter_alertmanager_up, the marks already known stay, scoring goes on.
 */
import { readerSecrets } from '../read/reader-settings';
import { AlertmanagerClient } from '../../common/alertmanager-client';
import { errorMessage } from '../../common/errors';
import { Logger } from '../../common/logger';
import { FEEDBACK_KINDS } from '../../common/vocabulary';
import { ExporterConfig } from '../config/config';
import { SelfMetrics } from '../publish/self-metrics';
import { FeedbackBook } from './feedback-book';
import { FeedbackMark, markFromSilence } from './feedback-mark';

type AlertmanagerSection = NonNullable<ExporterConfig['alertmanager']>;

export class SilencePoller {
  private timer?: NodeJS.Timeout;
  private client?: AlertmanagerClient;
  private clientFor?: AlertmanagerSection;
  private polling?: Promise<void>;
  private stopped = false;

  constructor(
    /** The current config's section (a reload may change or remove it). */
    private readonly section: () => AlertmanagerSection | undefined,
    /** The current pipeline's book (a reload hands the same book on). */
    private readonly book: () => FeedbackBook,
    private readonly log: Logger,
    private readonly metrics?: SelfMetrics,
  ) {}

  /** Polls now and then every poll_every, while a section is configured. */
  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.polling = this.pollOnce().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.section()?.poll_every ?? 30_000);
        this.timer.unref();
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }

  /** One poll; never throws. */
  async pollOnce(nowSeconds = Date.now() / 1000): Promise<void> {
    const section = this.section();
    if (!section) return;
    const book = this.book();
    try {
      const marks = await fetchMarks(this.clientOf(section));
      const before = book.version;
      book.merge(marks);
      book.prune(nowSeconds, section.keep_marks / 1000);
      this.metrics?.alertmanagerUp(true);
      if (book.version !== before) this.log.info('feedback marks', { marks: book.size, from_silences: marks.length });
    } catch (err) {
      this.metrics?.alertmanagerUp(false);
      this.log.warn('polling Alertmanager silences failed: the feedback marks already known stay', { url: section.url, error: errorMessage(err) });
    }
    for (const kind of FEEDBACK_KINDS) this.metrics?.feedbackMarks.set({ kind }, book.all.filter((m) => m.kind === kind).length);
  }

  private clientOf(section: AlertmanagerSection): AlertmanagerClient {
    if (this.client && this.clientFor === section) return this.client;
    this.client = alertmanagerClient(section);
    this.clientFor = section;
    return this.client;
  }
}

/** The client of the config's `alertmanager` section (secrets read now, from their files or variables). */
export function alertmanagerClient(section: AlertmanagerSection): AlertmanagerClient {
  // The same auth section and secret rules as the reader's.
  return new AlertmanagerClient({ url: section.url, timeoutMs: section.timeout, headers: section.headers, ...readerSecrets(section.auth) });
}

/** Every mark Alertmanager's silences carry now. */
export async function fetchMarks(client: AlertmanagerClient): Promise<FeedbackMark[]> {
  return (await client.listSilences()).map(markFromSilence).filter((m): m is FeedbackMark => m !== undefined);
}
