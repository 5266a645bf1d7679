// The kernel interface of mptcp-policy (Node only): the MPTCP path manager over
// generic netlink, its events, interfaces and addresses over rtnetlink, and live
// connections over sock_diag. See docs/netlink.md.
export type { PolicyEvent, PolicyEventName } from "./policy-event.js";
export { EVENT_KEY_ORDER, MPTCP_EVENT_NAMES } from "./policy-event.js";
export { NetlinkError, NetlinkSetupError, errnoName, limitMaximum } from "./errors.js";
export { NetlinkSocket, type NetlinkSocketOptions } from "./socket.js";
export { resolveFamily, type GenlFamily } from "./genl.js";
export { MptcpPathManager, type KernelPathManager, type UserspacePathManager, type Token } from "./path-manager.js";
export { decodeMptcpEvent, tokenNumber, tokenText, type AddressSpec, type Endpoint, type Limits } from "./mptcp-codec.js";
export { InterfaceTracker, type AddressInfo, type LinkInfo } from "./interfaces.js";
export { EventMonitor, EVENT_RECEIVE_BUFFER, type EventFilterKind, type MonitorOptions } from "./monitor.js";
export { SockDiag, type MptcpSocket, type SubflowSocket, type MptcpInfo } from "./diag.js";
export {
  readStatus,
  readSysctls,
  type MptcpStatus,
  type ConnectionStatus,
  type SubflowStatus,
  type ListenerStatus,
  type EndpointStatus,
} from "./status.js";
export type { Family } from "./addresses.js";
