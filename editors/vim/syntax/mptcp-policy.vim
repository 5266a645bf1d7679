" Vim syntax file for mptcp-policy files (Vim and Neovim).
" Generated from language/vocabulary.ts by language/service/highlighting.ts (vimSyntax); do not edit.
if exists("b:current_syntax")
  finish
endif

syntax keyword mptcpPolicyConstant signal subflow backup fullmesh laminar ipv4 ipv6 client server stale timeout reset refused unreachable net_unreachable net_down aborted pipe proto no_route etimedout econnreset econnrefused ehostunreach enetunreach enetdown econnaborted epipe eproto subflows add_addr_accepted announced
syntax keyword mptcpPolicyMetric rtt rtt_var cwnd inflight queued pacing lost retrans
syntax keyword mptcpPolicyEvent created established closed announced removed subflow_established subflow_closed subflow_priority subflow_stale subflow_recovered listener_created listener_closed iface_up iface_down address_added address_removed
syntax keyword mptcpPolicyKeyword interface limits endpoint on if then scheduler for use any redundant round_robin where by lowest highest create destroy announce withdraw set log after retry via from to port iface local remote in family side backup active error subflows isolate mptcp program unit cgroup user and or not
syntax match mptcpPolicyNumber /\<\d\+\(\.\d\+\)\?\(us\|ms\|s\|B\|KB\|MB\|kbit\|mbit\|gbit\)\?\>/
syntax match mptcpPolicyAddress /\<\d\+\.\d\+\.\d\+\.\d\+\(\/\d*\)\?/
syntax match mptcpPolicyAddress /\<[0-9A-Fa-f]*:[0-9A-Fa-f:.]*\(\/\d*\)\?/
syntax match mptcpPolicyOperator /[<>=!]=\?/
syntax region mptcpPolicyString start=/"/ skip=/\\./ end=/"\|$/ oneline
syntax match mptcpPolicyComment /#.*$/ contains=@Spell

highlight default link mptcpPolicyKeyword Keyword
highlight default link mptcpPolicyEvent Type
highlight default link mptcpPolicyMetric Identifier
highlight default link mptcpPolicyConstant Constant
highlight default link mptcpPolicyNumber Number
highlight default link mptcpPolicyAddress Number
highlight default link mptcpPolicyOperator Operator
highlight default link mptcpPolicyString String
highlight default link mptcpPolicyComment Comment

let b:current_syntax = "mptcp-policy"
