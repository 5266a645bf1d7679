// Tests that need a kernel feature run where the kernel has it and are skipped, with
// the reason, where it does not: the kernel matrix (scripts/vm.sh matrix) reports
// them as `unsupported` with that reason, read from the file MPTCP_POLICY_UNSUPPORTED
// names (one JSON line per skipped test). A skip without a reason counts as a failure.
import { appendFileSync } from "node:fs";
import { it } from "vitest";
import { FEATURE_DESCRIPTIONS, probeKernelFeatures, type FeatureName } from "../runtime/kernel/features.js";

/** This kernel's features (without the endpoint probe: laminar is probed where a test needs it). */
export const kernel = await probeKernelFeatures();

/** Why this kernel cannot run a test that needs these features, or undefined if it can. */
export function unsupportedReason(...names: FeatureName[]): string | undefined {
  const missing = names.filter((n) => kernel.features[n].available === false);
  if (missing.length === 0) return undefined;
  return missing.map((n) => `no ${FEATURE_DESCRIPTIONS[n]} on Linux ${kernel.release} (${kernel.features[n].how})`).join("; ");
}

export function hasFeature(name: FeatureName): boolean {
  return kernel.features[name].available !== false;
}

/** `it`, skipped with the reason recorded where the kernel lacks one of `needs`. */
export function itNeeds(needs: readonly FeatureName[], title: string, fn: () => Promise<void> | void, timeout?: number): void {
  const reason = unsupportedReason(...needs);
  if (reason !== undefined) recordUnsupported(title, reason);
  it.skipIf(reason !== undefined)(title, fn, timeout);
}

export function recordUnsupported(title: string, reason: string): void {
  const file = process.env["MPTCP_POLICY_UNSUPPORTED"];
  if (file) appendFileSync(file, `${JSON.stringify({ title, reason })}\n`);
}
