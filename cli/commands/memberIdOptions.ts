// `--member-id` and `--member-index` of the long-running commands: one wording and
// one default (`<hostname>-<role>-<index>`, kafka/memberIdentity.ts memberIdOf) for
// every role; each says what its stable id keeps across a restart.
import { Option } from 'commander';

/** `--member-id` of `role`: what its stable id keeps across restarts, and the setting it defaults to, if any. */
export function memberIdOption(role: string, keeps: string, setting?: string): Option {
  return new Option('--member-id <id>', `stable ${role} id: ${keeps}; default ${setting ? `${setting} or ` : ''}<hostname>-${role}-<index>`);
}

/** `--member-index`: the index in the default member id. */
export function memberIndexOption(): Option {
  return new Option('--member-index <n>', 'index in the default member id (instances of one role on one host need distinct ones)').default('1');
}
