// What each kernel of the lab (scripts/vm.sh) is known to have, measured once by
// hand and written down here, so the feature probe is checked against facts rather
// than against itself. Tests running in a lab guest see MPTCP_POLICY_VM=NAME.
import type { FeatureName } from "../runtime/kernel/features.js";

export interface LabKernel {
  readonly name: string;
  /**
   * The kernel words some path-manager errors differently from 6.18 (whose texts the
   * netlink tests spell out) and points at no attribute: only errno is compared there.
   */
  readonly olderErrorTexts: boolean;
  /** The largest limit `ip mptcp limits set` takes (measured: 8 until 6.x, 64 on 7.x). */
  readonly limitMaximum: number;
  /** `created`/`established` carry the server side as a bit of MPTCP_ATTR_FLAGS too (6.18+), not only MPTCP_ATTR_SERVER_SIDE. */
  readonly serverSideFlag: boolean;
  /** The features, as the probe must report them (value where there is one). */
  readonly features: Partial<Record<FeatureName, boolean | string | number>>;
}

/** Debian 12 (6.1), Debian 13 (6.12), Debian unstable (7.x). */
export const LAB_KERNELS: readonly LabKernel[] = [
  {
    name: "6.1",
    olderErrorTexts: true,
    serverSideFlag: false,
    limitMaximum: 8,
    features: {
      path_manager_switch: "pm_type",
      listener_events: false,
      laminar_endpoints: false,
      subflow_create_flags: false,
      get_addr_by_token: false,
      mptcp_info: 48,
      scheduler_sysctl: false,
      bpf_scheduler_hook: false,
    },
  },
  {
    name: "6.12",
    olderErrorTexts: true,
    serverSideFlag: false,
    limitMaximum: 8,
    features: {
      path_manager_switch: "pm_type",
      listener_events: true,
      laminar_endpoints: false,
      subflow_create_flags: true,
      get_addr_by_token: true,
      mptcp_info: 96,
      scheduler_sysctl: true,
      bpf_scheduler_hook: false,
    },
  },
  {
    name: "7",
    olderErrorTexts: false,
    serverSideFlag: true,
    limitMaximum: 64,
    features: {
      path_manager_switch: "path_manager",
      listener_events: true,
      laminar_endpoints: true,
      subflow_create_flags: true,
      get_addr_by_token: true,
      mptcp_info: 96,
      scheduler_sysctl: true,
      bpf_scheduler_hook: false,
    },
  },
];

/** The lab kernel these tests run on, or undefined outside the lab (on the host). */
export function labKernel(): LabKernel | undefined {
  const name = process.env["MPTCP_POLICY_VM"];
  return name === undefined ? undefined : LAB_KERNELS.find((k) => k.name === name);
}

/**
 * A kernel error as the tests spell it, or only its errno where the lab kernel words
 * errors its own way; `elsewhere` gives what a named lab kernel answers instead
 * (Linux 6.1 refuses a duplicate endpoint with EINVAL, later kernels with EEXIST).
 */
export function kernelSays<T extends { readonly code: string; readonly errno?: number }>(
  expected: T,
  elsewhere: Readonly<Record<string, { readonly code: string }>> = {},
): Partial<T> {
  const kernel = labKernel();
  if (!kernel?.olderErrorTexts) return expected;
  const code = elsewhere[kernel.name]?.code ?? expected.code;
  return { code, ...(expected.errno !== undefined && code === expected.code ? { errno: expected.errno } : {}) } as Partial<T>;
}
