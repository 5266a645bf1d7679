// Numbers from the kernel's uapi headers, named as there. Only what this client
// uses; each block says which header it comes from.

// linux/netlink.h
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_GENERIC = 16;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
export const NLM_F_CAPPED = 0x100; // in an ACK: the request was not copied back
export const NLM_F_ACK_TLVS = 0x200; // in an ACK: extended-ack attributes follow

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** enum nlmsgerr_attrs */
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

// linux/genetlink.h
export const GENL_HDRLEN = 4;
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;

// linux/mptcp_pm.h (generated from Documentation/netlink/specs/mptcp_pm.yaml) and linux/mptcp.h
export const MPTCP_PM_NAME = "mptcp_pm";
export const MPTCP_PM_VER = 1;
export const MPTCP_PM_EV_GRP_NAME = "mptcp_pm_events";
export const MPTCP_PM_CMD_GRP_NAME = "mptcp_pm_cmds";

export const MPTCP_PM_CMD = {
  ADD_ADDR: 1,
  DEL_ADDR: 2,
  GET_ADDR: 3,
  FLUSH_ADDRS: 4,
  SET_LIMITS: 5,
  GET_LIMITS: 6,
  SET_FLAGS: 7,
  ANNOUNCE: 8,
  REMOVE: 9,
  SUBFLOW_CREATE: 10,
  SUBFLOW_DESTROY: 11,
} as const;

/** Attribute set "attr" (MPTCP_PM_ATTR_*). */
export const MPTCP_PM_ATTR = {
  ADDR: 1,
  RCV_ADD_ADDRS: 2,
  SUBFLOWS: 3,
  TOKEN: 4,
  LOC_ID: 5,
  ADDR_REMOTE: 6,
} as const;

/** Attribute set "endpoint": MPTCP_PM_ENDPOINT_ADDR has the same number as MPTCP_PM_ATTR_ADDR. */
export const MPTCP_PM_ENDPOINT_ADDR = 1;

/** Attribute set "address" (MPTCP_PM_ADDR_ATTR_*). */
export const MPTCP_PM_ADDR_ATTR = {
  FAMILY: 1,
  ID: 2,
  ADDR4: 3,
  ADDR6: 4,
  PORT: 5,
  FLAGS: 6,
  IF_IDX: 7,
} as const;

/** MPTCP_PM_ADDR_FLAG_*: endpoint flags, in the order `ip mptcp endpoint` prints them. */
export const MPTCP_PM_ADDR_FLAGS = [
  { name: "signal", bit: 1 << 0 },
  { name: "subflow", bit: 1 << 1 },
  { name: "backup", bit: 1 << 2 },
  { name: "fullmesh", bit: 1 << 3 },
  { name: "implicit", bit: 1 << 4 },
  { name: "laminar", bit: 1 << 5 },
] as const;
export type EndpointFlagName = (typeof MPTCP_PM_ADDR_FLAGS)[number]["name"];

/** enum mptcp_event_type */
export const MPTCP_EVENT = {
  CREATED: 1,
  ESTABLISHED: 2,
  CLOSED: 3,
  ANNOUNCED: 6,
  REMOVED: 7,
  SUB_ESTABLISHED: 10,
  SUB_CLOSED: 11,
  SUB_PRIORITY: 13,
  LISTENER_CREATED: 15,
  LISTENER_CLOSED: 16,
} as const;

/** enum mptcp_event_attr (MPTCP_ATTR_*) */
export const MPTCP_ATTR = {
  TOKEN: 1,
  FAMILY: 2,
  LOC_ID: 3,
  REM_ID: 4,
  SADDR4: 5,
  SADDR6: 6,
  DADDR4: 7,
  DADDR6: 8,
  SPORT: 9,
  DPORT: 10,
  BACKUP: 11,
  ERROR: 12,
  FLAGS: 13,
  TIMEOUT: 14,
  IF_IDX: 15,
  RESET_REASON: 16,
  RESET_FLAGS: 17,
  SERVER_SIDE: 18,
} as const;

/** MPTCP_PM_EV_FLAG_* in MPTCP_ATTR_FLAGS of created/established. */
export const MPTCP_PM_EV_FLAG_DENY_JOIN_ID0 = 1 << 0;
export const MPTCP_PM_EV_FLAG_SERVER_SIDE = 1 << 1;

/** MPTCP_SUBFLOW_ATTR_* (subflow ULP info in sock_diag). */
export const MPTCP_SUBFLOW_ATTR = {
  TOKEN_REM: 1,
  TOKEN_LOC: 2,
  RELWRITE_SEQ: 3,
  MAP_SEQ: 4,
  MAP_SFSEQ: 5,
  SSN_OFFSET: 6,
  MAP_DATALEN: 7,
  FLAGS: 8,
  ID_REM: 9,
  ID_LOC: 10,
  PAD: 11,
} as const;

/** MPTCP_SUBFLOW_FLAG_* */
export const MPTCP_SUBFLOW_FLAG = {
  MCAP_REM: 1 << 0,
  MCAP_LOC: 1 << 1,
  JOIN_REM: 1 << 2,
  JOIN_LOC: 1 << 3,
  BKUP_REM: 1 << 4,
  BKUP_LOC: 1 << 5,
  FULLY_ESTABLISHED: 1 << 6,
  CONNECTED: 1 << 7,
  MAPVALID: 1 << 8,
} as const;

export const MPTCP_INFO_FLAG_FALLBACK = 1 << 0;
export const MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED = 1 << 1;

// linux/in.h, linux/socket.h
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_MPTCP = 262;

// linux/rtnetlink.h, linux/if_addr.h, linux/if.h
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV6_IFADDR = 9;
export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;

// linux/sock_diag.h, linux/inet_diag.h
export const SOCK_DIAG_BY_FAMILY = 20;
/** Abort one socket found by its addresses (CONFIG_INET_DIAG_DESTROY; `ss -K`). */
export const SOCK_DESTROY = 21;
export const INET_DIAG_REQ_PROTOCOL = 3;
export const INET_DIAG_INFO = 2;
export const INET_DIAG_ULP_INFO = 19;
export const INET_ULP_INFO_NAME = 1;
export const INET_ULP_INFO_MPTCP = 3;

/** TCP states (include/net/tcp_states.h), as `ss` names them. */
export const TCP_STATES = [
  "",
  "ESTAB",
  "SYN-SENT",
  "SYN-RECV",
  "FIN-WAIT-1",
  "FIN-WAIT-2",
  "TIME-WAIT",
  "UNCONN",
  "CLOSE-WAIT",
  "LAST-ACK",
  "LISTEN",
  "CLOSING",
  "NEW-SYN-RECV",
  "BOUND-INACTIVE",
] as const;
export const TCP_ESTABLISHED = 1;
export const TCP_LISTEN = 10;
/** All states but TIME-WAIT and NEW-SYN-RECV, which are mini sockets without MPTCP info. */
export const DIAG_STATES_CONNECTED = 0xfff & ~((1 << 6) | (1 << 10) | (1 << 12));
export const DIAG_STATES_LISTEN = 1 << TCP_LISTEN;
