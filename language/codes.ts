// Every diagnostic code in one table. Codes are stable: tests, docs and users'
// scripts rely on them, so a code is never reused for another meaning.

export const CODES = {
  // Lexical and syntax
  E001: "unexpected character",
  E002: "unterminated string",
  E003: "syntax error",
  E004: "nesting too deep",
  E005: "too many errors",
  // Names
  E100: "undeclared interface",
  E101: "duplicate interface",
  E102: "duplicate scheduler",
  E103: "invalid name",
  E104: "scheduler name too long",
  E105: "invalid interface pattern",
  // Events, conditions and actions
  E200: "unknown event",
  E201: "condition not available on this event",
  E202: "event takes no interface",
  E203: "unknown error name",
  E204: "unknown condition",
  E205: "metric outside a scheduler",
  E206: "`to announced` outside `on announced`",
  E207: "action needs a connection",
  E208: "`destroy` needs `via` here",
  E209: "conflicting or repeated action option",
  E210: "unknown value",
  E211: "invalid string",
  E212: "`retry` on an action other than `create`",
  // Values
  E300: "wrong unit",
  E301: "missing unit",
  E302: "number out of range",
  E303: "invalid address",
  E304: "invalid prefix",
  E305: "address families differ",
  // Endpoints and limits
  E400: "unknown endpoint flag",
  E401: "endpoint flags the kernel refuses together",
  E402: "duplicate limit",
  E403: "unknown limit",
  E404: "endpoint port without `signal`",
  E405: "duplicate endpoint",
  // Schedulers
  E500: "two default schedulers",
  E501: "not a metric",
  E502: "condition not available in a scheduler",
  E503: "scheduler without steps",
  // Program selection (`mptcp for`)
  E700: "condition not known when a socket is created",
  E701: "invalid program name",
  E702: "invalid unit name",
  E703: "invalid cgroup path",
  E704: "process test outside `mptcp for`",
  // Zones (`isolate`)
  E800: "interface in two zones",
  E801: "rule crosses a zone",
  // Warnings
  W600: "possible subflow storm",
  W601: "rule shadowed by an earlier one",
  W602: "unused interface",
  W603: "repeated flag",
  W604: "unreachable scheduler step",
  W605: "too many warnings",
  W800: "action may cross a zone",
} as const;

export type Code = keyof typeof CODES;
