// A mix busier than the defaults, so short simulated windows in tests exercise every flow.
import type { Mix } from '../../tools/generator/mix.ts';

export const BUSY_MIX: Partial<Mix> = {
  powerCycleSeconds: 1200,
  mobilitySeconds: 300,
  periodicLuSeconds: 600,
  mtCallsPerHour: 6,
  moCallsPerHour: 6,
  mtSmsPerHour: 6,
  moSmsPerHour: 6,
  atiPerHour: 6,
  sipCallsPerHour: 6,
  publishPerHour: 6,
  subscribePerHour: 6,
  messagePerHour: 6,
};
