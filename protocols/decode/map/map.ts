// GSM MAP over TCAP components (3GPP TS 29.002): names the operation or
// error and decodes the presence-relevant parameters of invokes and results.
import type { TcapComponent } from '../tcap/tcap.ts';
import { MAP_ERRORS } from './errors.ts';
import { mapOperationName } from './operations.ts';
import { ERROR_PARAMS, INVOKE_PARAMS, RESULT_PARAMS } from './operationParams.ts';
import { walk, type MapParams, type Spec } from './paramWalker.ts';

export type { MapParams, MapLocation } from './paramWalker.ts';
export type { MapAddress } from './addressString.ts';

export interface MapComponent {
  kind: 'invoke' | 'result' | 'error' | 'reject';
  invokeId?: number;
  linkedId?: number;
  /** ReturnResultNotLast is a partial result (segmented result). */
  last?: boolean;
  opCode?: number;
  /** TS 29.002 operation name (lowerCamelCase as in the ASN.1), e.g. "updateLocation". */
  operation?: string;
  errorCode?: number;
  error?: string;
  problem?: { type: string; code: number };
  params: MapParams;
}

/**
 * Builds the MAP view of one TCAP component. `mapVersion` (from the dialogue's
 * application context) selects version-specific names. A result without an
 * opCode (allowed when it carries no parameter) has no operation until the
 * transaction correlator supplies it.
 */
export function decodeMapComponent(c: TcapComponent, mapVersion?: number): MapComponent {
  const m: MapComponent = { kind: c.kind, params: {} };
  if (c.invokeId !== undefined) m.invokeId = c.invokeId;
  if (c.linkedId !== undefined) m.linkedId = c.linkedId;
  if (c.kind === 'result') m.last = c.last;
  if (c.opCode !== undefined) {
    m.opCode = c.opCode;
    const name = mapOperationName(c.opCode, mapVersion);
    if (name) m.operation = name;
  }
  if (c.errorCode !== undefined) {
    m.errorCode = c.errorCode;
    m.error = MAP_ERRORS[c.errorCode] ?? `error${c.errorCode}`;
  }
  if (c.problem) m.problem = c.problem;
  const spec = c.param && paramSpec(c);
  if (spec) walk(c.param!, 0, c.param!.length, spec, m.params);
  return m;
}

/** Which fields to decode: by opCode for invokes/results, by error code for errors. */
function paramSpec(c: TcapComponent): Spec | undefined {
  if (c.kind === 'error') return c.errorCode === undefined ? undefined : ERROR_PARAMS[c.errorCode];
  if (c.opCode === undefined) return undefined;
  if (c.kind === 'invoke') return INVOKE_PARAMS[c.opCode];
  if (c.kind === 'result') return RESULT_PARAMS[c.opCode];
  return undefined;
}
