// Entry point of the `presence` CLI: one sub-command per concern, each with --help.
import { Command, CommanderError } from 'commander';
import { registerStackCommands } from './commands/stack.ts';
import { registerConnectCommands } from './commands/connect.ts';
import { registerTopicsCommands } from './commands/topics.ts';
import { registerRunCommands } from './commands/run.ts';
import { registerSipFrontCommand } from './commands/sipFront.ts';
import { registerNotifySinkCommand } from './commands/notifySink.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerDecodeCommand } from './commands/decode.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerDirectoryCommands } from './commands/directory.ts';
import { registerGenerateCommand } from './commands/generate.ts';
import { registerLocateCommand } from './commands/locate.ts';
import { registerScaleCommand } from './commands/scale.ts';
import { registerRulesCommands } from './commands/rules.ts';
import { registerAvailabilityCommands } from './commands/availability.ts';
import { registerTapCommand } from './commands/tap.ts';
import { registerGroupPresenceCommand } from './commands/groupPresence.ts';
import { registerGroupPresenceApiCommand } from './commands/groupPresenceApi.ts';
import { registerGroupServiceCommand } from './commands/groupService.ts';

export function buildProgram(): Command {
  const program = new Command('presence')
    .description('Kafka-native presence gateway: presence derived from copies of SS7 and SIP signaling')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ sortSubcommands: true });
  registerStackCommands(program);
  registerConnectCommands(program);
  registerTopicsCommands(program);
  registerRunCommands(program);
  registerSipFrontCommand(program);
  registerNotifySinkCommand(program);
  registerDemoCommand(program);
  registerDecodeCommand(program);
  registerReplayCommand(program);
  registerDirectoryCommands(program);
  registerGenerateCommand(program);
  registerLocateCommand(program);
  registerScaleCommand(program);
  registerRulesCommands(program);
  registerAvailabilityCommands(program);
  registerTapCommand(program);
  registerGroupPresenceCommand(program);
  registerGroupPresenceApiCommand(program);
  registerGroupServiceCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`presence: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
