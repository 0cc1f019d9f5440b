// Entry point of the `presence` CLI: one sub-command per concern, each with --help.
import { Command, CommanderError } from 'commander';
import { parseLogLevel } from './logger.ts';
import { registerStackCommands } from './commands/stack.ts';
import { registerConnectCommands } from './commands/connect.ts';
import { registerTopicsCommands } from './commands/topics.ts';
import { registerRunCommands } from './commands/run.ts';
import { registerSipFrontCommand } from './commands/sipFront.ts';
import { registerNotifySinkCommand } from './commands/notifySink.ts';
import { registerLocationAgentCommand } from './commands/locationAgent.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerDecodeCommand } from './commands/decode.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerDirectoryCommands } from './commands/directory.ts';
import { registerGenerateCommand } from './commands/generate.ts';
import { registerLocateCommand, registerWatchersCommand } from './commands/locate.ts';
import { registerScaleCommand } from './commands/scale.ts';
import { registerRulesCommands } from './commands/rules.ts';
import { registerAvailabilityCommands } from './commands/availability.ts';
import { registerProfilesCommands } from './commands/profiles.ts';
import { registerTapCommand } from './commands/tap.ts';
import { registerGroupPresenceCommand } from './commands/groupPresence.ts';
import { registerGroupPresenceApiCommand } from './commands/groupPresenceApi.ts';
import { registerGroupServiceCommand } from './commands/groupService.ts';
import { registerAvailabilityServiceCommand } from './commands/availabilityService.ts';
import { registerCallHandlingCommand } from './commands/callHandling.ts';
import { registerConsoleCommand } from './commands/console.ts';
import { registerTokensCommand } from './commands/tokens.ts';
import { registerCredentialsCommand } from './commands/credentials.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerEventDeriverCommand } from './commands/eventDeriver.ts';
import { registerEventServiceCommands } from './commands/eventService.ts';
import { releaseWorker } from './commands/workerPool.ts';

export function buildProgram(): Command {
  const program = new Command('presence')
    .description('Kafka-native presence gateway: presence derived from copies of SS7 and SIP signaling')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ sortSubcommands: true })
    .option('--log-level <level>', 'debug, info, warn or error: the least a long-running command logs (default PRESENCE_LOG_LEVEL or info)')
    .option('--log-format <format>', 'json, text, or auto (JSON when stderr is not a terminal) (default PRESENCE_LOG_FORMAT or auto)');
  // The flags win over the environment, which the settings read: set it before any command runs.
  program.hook('preAction', () => {
    const o = program.opts<{ logLevel?: string; logFormat?: string }>();
    if (o.logLevel !== undefined) process.env.PRESENCE_LOG_LEVEL = parseLogLevel('--log-level', o.logLevel);
    if (o.logFormat !== undefined) process.env.PRESENCE_LOG_FORMAT = o.logFormat;
  });
  registerStackCommands(program);
  registerConnectCommands(program);
  registerTopicsCommands(program);
  registerRunCommands(program);
  registerSipFrontCommand(program);
  registerNotifySinkCommand(program);
  registerLocationAgentCommand(program);
  registerDemoCommand(program);
  registerDecodeCommand(program);
  registerReplayCommand(program);
  registerDirectoryCommands(program);
  registerGenerateCommand(program);
  registerLocateCommand(program);
  registerWatchersCommand(program);
  registerScaleCommand(program);
  registerRulesCommands(program);
  registerAvailabilityCommands(program);
  registerProfilesCommands(program);
  registerTapCommand(program);
  registerGroupPresenceCommand(program);
  registerGroupPresenceApiCommand(program);
  registerGroupServiceCommand(program);
  registerAvailabilityServiceCommand(program);
  registerCallHandlingCommand(program);
  registerConsoleCommand(program);
  registerTokensCommand(program);
  registerCredentialsCommand(program);
  registerConfigCommands(program);
  registerEventDeriverCommand(program);
  registerEventServiceCommands(program);
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
  } finally {
    releaseWorker();
  }
}
