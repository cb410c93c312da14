/** Active account health (docs/ARCHITECTURE.md, `probes/`): the prober, and a runtime for processes without a relay. */
export { createProber } from './prober.js';
export { createProbeRuntime, type ProbeRuntime } from './runtime.js';
export {
  ProbeBusy,
  type Prober,
  type ProberDeps,
  type ProbeOutcome,
  type ProbeResult,
  type ProbeStateView,
  type ProbeTotals,
  type ProbeWhy,
} from './types.js';
