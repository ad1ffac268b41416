/** Every command of the CLI, by name, in the order `--help` lists them: one line per command. */
import { Command } from '../command';
import { backtestCommand } from './backtest';
import { checkCommand } from './check';
import { demoServiceCommand } from './demo-service';
import { initCommand } from './init';
import { receiverCommand } from './receiver';
import { runCommand } from './run';

export const COMMANDS: Record<string, Command> = {
  init: initCommand,
  run: runCommand,
  check: checkCommand,
  backtest: backtestCommand,
  receiver: receiverCommand,
  'demo-service': demoServiceCommand,
};
