import { createLogger } from '../../common/logger';
import { startDemoService } from '../../demo/demo-service';
import { Command, parse, UsageError, waitForSignal } from '../command';

const USAGE = `Usage: anomaly-exporter demo-service [--listen HOST:PORT] [--rate RPS] [--no-load]

  --listen HOST:PORT  default 127.0.0.1:10180
  --rate RPS          requests per second per service from the built-in load generator (default 20)
  --no-load           do not generate load
Fault API: POST /faults {"service","type":"latency"|"errors"|"traffic_drop","magnitude","duration"},
DELETE /faults, GET /faults, POST /admin/restart {"service"}.
`;

export const demoServiceCommand: Command = {
  summary: 'an instrumented HTTP service with load and fault injection, for trying it out',
  synopsis: ['demo-service [--listen HOST:PORT] [--rate RPS] [--no-load]'],
  async run(args) {
    const v = parse(
      args,
      { listen: { type: 'string', default: '127.0.0.1:10180' }, rate: { type: 'string', default: '20' }, 'no-load': { type: 'boolean', default: false } },
      USAGE,
    );
    if (!v) return 0;
    const rate = Number(v.rate);
    if (!(rate >= 0 && rate <= 1000)) throw new UsageError('--rate must be a number from 0 to 1000');
    const logger = createLogger({ component: 'demo-service' });
    const demo = await startDemoService({ listen: v.listen as string, ratePerService: v['no-load'] ? 0 : rate, logger });
    await waitForSignal(logger, () => demo.stop());
    return 0;
  },
};
