// The hand-written C that every generated scheduler includes, emitted verbatim next
// to the generated files (`compile --emit bpf`, `build`). Most of the logic lives
// here, reviewed once, so the generated code stays a readable list of steps
// (bpftrace's lesson: hand-written BPF C helpers, small generated glue).
//
//   mptcp_policy_types.h   the few UAPI types and constants used: no kernel headers needed
//   mptcp_policy.h         the snapshot layout and the step macros of the decision core
//   mptcp_policy_kernel.h  the struct_ops side: CO-RE kernel types, kfuncs, filling a snapshot
//   mptcp_policy_test.h    the decision core in an XDP program, for BPF_PROG_TEST_RUN
//
// Kept as TypeScript strings so that compiler/ stays browser-safe (the playground shows
// the same files). The snapshot layout here and compiler/scheduler/layout.ts must agree;
// _Static_assert pins the sizes and the differential tests pin the rest.

export const TYPES_H = String.raw`/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mptcp_policy_types.h - part of mptcp-policy, hand-written (not generated).
 *
 * The few UAPI types and constants mptcp-policy's BPF programs use, with the values of
 * include/uapi/linux/bpf.h, so that a build needs clang and libbpf's headers only.
 */
#ifndef MPTCP_POLICY_TYPES_H
#define MPTCP_POLICY_TYPES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

enum {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_SK_STORAGE = 24,
};
enum { BPF_F_NO_PREALLOC = 1 };
enum { BPF_LOCAL_STORAGE_GET_F_CREATE = 1 };

enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#endif
`;

export const POLICY_H = String.raw`/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mptcp_policy.h - part of mptcp-policy, hand-written (not generated).
 *
 * The decision core of a generated scheduler is a pure function of a snapshot: the
 * connection and up to MPP_MAX_SUBFLOWS of its subflows, filled from the kernel by the
 * struct_ops wrapper (mptcp_policy_kernel.h) or from user space by a test run
 * (mptcp_policy_test.h). The generated sched_core.h lists each scheduler's steps with
 * the MPP_* macros below; a step that finds subflows returns from the scheduler.
 *
 * Semantics (the TypeScript reference evaluator, compiler/scheduler/evaluate.ts, has
 * the same; differential tests run both on the same snapshots):
 *  - mpp_prepare() runs first and marks the subflows this decision may choose
 *    (MPP_F_USABLE): those the kernel can send on (MPP_F_ACTIVE: mptcp_subflow_active())
 *    whose send buffer is not full (the kernel's sk_stream_memory_free()); for a
 *    retransmission (conn.purpose MPP_FOR_RETRANS) only those of them that are not
 *    stale and have nothing outstanding at TCP level (queued == 0), as the kernel's
 *    own mptcp_subflow_get_retrans() wants;
 *  - only those are ever chosen; a step looks at the ones that match its condition;
 *  - use: the one with the lowest (highest) value, ties to the first in list order;
 *  - use any: the first usable subflow in list order;
 *  - redundant: every match;
 *  - round_robin: match number (turn mod matches), and the turn advances by one (not
 *    for a retransmission);
 *  - entries of sf[] past conn.nr have flags 0, so the loops need not test nr;
 *  - the first step that finds a subflow decides.
 */
#ifndef MPTCP_POLICY_H
#define MPTCP_POLICY_H

#define MPP_MAX_SUBFLOWS 8

/* struct mpp_subflow.flags */
#define MPP_F_ACTIVE 1u	/* the kernel can send on it: established, not closing */
#define MPP_F_BACKUP 2u	/* a backup subflow (our request or the peer's) */
#define MPP_F_STALE 4u	/* the path manager marked it stale */
#define MPP_F_SNDBUF_FULL 8u	/* its send buffer is full (not sk_stream_memory_free()) */
#define MPP_F_USABLE 16u	/* set by mpp_prepare(): this decision may choose it */

/* struct mpp_conn.purpose: what the decision is for */
#define MPP_FOR_SEND 0	/* get_send: new data */
#define MPP_FOR_RETRANS 1	/* get_retrans: data sent once, not acknowledged in time */

#define MPP_SIDE_CLIENT 0
#define MPP_SIDE_SERVER 1

struct mpp_subflow {
	__u64 pacing;	/* pacing rate, bytes per second */
	__u64 iface;	/* bit i set: its interface is in the policy's interface class i */
	__u32 rtt;	/* smoothed round-trip time, us */
	__u32 rtt_var;	/* round-trip time variation, us */
	__u32 cwnd;	/* congestion window, packets */
	__u32 inflight;	/* packets sent, not yet acknowledged */
	__u32 queued;	/* bytes written, not yet acknowledged */
	__u32 lost;	/* packets considered lost */
	__u32 retrans;	/* packets retransmitted, not yet acknowledged */
	__u32 flags;	/* MPP_F_* */
};

struct mpp_conn {
	__u32 local[4];	/* host byte order; IPv4 (also IPv4-mapped IPv6) in [0] */
	__u32 remote[4];
	__u16 local_port;
	__u16 remote_port;
	__u8 family;	/* 4 or 6 */
	__u8 local_kind;	/* 4 or 6: the kind of address in local[] */
	__u8 remote_kind;
	__u8 side;	/* MPP_SIDE_* */
	__u8 nr;	/* entries used in mpp_snapshot.sf; the others have flags 0 */
	__u8 subflows;	/* the connection's subflows (nr, or more in the kernel) */
	__u8 purpose;	/* MPP_FOR_* */
	__u8 pad;
	__u32 turn;	/* round_robin: turns taken so far */
};

struct mpp_snapshot {
	struct mpp_conn conn;
	struct mpp_subflow sf[MPP_MAX_SUBFLOWS];
};

struct mpp_result {
	__u8 sched;	/* 1 + index of the scheduler that served; 0: none matched */
	__u8 step;	/* 1-based step that found subflows; 0: none did */
	__u8 mask;	/* bit i set: schedule sf[i] */
	__u8 pad;
	__u32 turn;	/* conn.turn after the decision */
};

_Static_assert(sizeof(struct mpp_subflow) == 48, "struct mpp_subflow layout");
_Static_assert(sizeof(struct mpp_conn) == 48, "struct mpp_conn layout");
_Static_assert(sizeof(struct mpp_snapshot) == 432, "struct mpp_snapshot layout");
_Static_assert(sizeof(struct mpp_result) == 8, "struct mpp_result layout");

static __always_inline bool mpp_always(const struct mpp_conn *c, const struct mpp_subflow *s)
{
	return true;
}

/* Mark the subflows this decision may choose (MPP_F_USABLE), once, before the steps:
 * the steps then test one bit, as cheap for the verifier as for the CPU. */
static __always_inline void mpp_prepare(struct mpp_snapshot *snap)
{
	bool retrans = snap->conn.purpose == MPP_FOR_RETRANS;

	for (int i = 0; i < MPP_MAX_SUBFLOWS; i++) {
		struct mpp_subflow *s = &snap->sf[i];
		bool usable = (s->flags & (MPP_F_ACTIVE | MPP_F_SNDBUF_FULL)) == MPP_F_ACTIVE;

		if (retrans && ((s->flags & MPP_F_STALE) || s->queued != 0))
			usable = false;
		s->flags = usable ? s->flags | MPP_F_USABLE : s->flags & ~MPP_F_USABLE;
	}
}

/* Prefix tests; len is a constant, so the masks fold at compile time. */
static __always_inline __u32 mpp_mask(__u32 len, __u32 word)
{
	if (len >= 32 * (word + 1))
		return 0xffffffffu;
	if (len <= 32 * word)
		return 0;
	return 0xffffffffu << (32 - (len - 32 * word));
}

static __always_inline bool mpp_in4(const __u32 *a, __u8 kind, __u32 net, __u32 len)
{
	return kind == 4 && (a[0] & mpp_mask(len, 0)) == net;
}

static __always_inline bool mpp_in6(const __u32 *a, __u8 kind, __u32 n0, __u32 n1, __u32 n2, __u32 n3, __u32 len)
{
	return kind == 6 && (a[0] & mpp_mask(len, 0)) == n0 && (a[1] & mpp_mask(len, 1)) == n1 &&
	       (a[2] & mpp_mask(len, 2)) == n2 && (a[3] & mpp_mask(len, 3)) == n3;
}

#define mpp_local_in4(c, net, len) mpp_in4((c)->local, (c)->local_kind, net, len)
#define mpp_remote_in4(c, net, len) mpp_in4((c)->remote, (c)->remote_kind, net, len)
#define mpp_local_in6(c, n0, n1, n2, n3, len) mpp_in6((c)->local, (c)->local_kind, n0, n1, n2, n3, len)
#define mpp_remote_in6(c, n0, n1, n2, n3, len) mpp_in6((c)->remote, (c)->remote_kind, n0, n1, n2, n3, len)

/* A scheduler starts: record which one serves; the turn carries over unless a
 * round_robin step advances it. */
static __always_inline void mpp_begin(struct mpp_result *r, __u8 sched, const struct mpp_snapshot *snap)
{
	r->sched = sched;
	r->step = 0;
	r->mask = 0;
	r->turn = snap->conn.turn;
}

static __always_inline int mpp_found(struct mpp_result *r, __u8 step, __u32 mask)
{
	r->step = step;
	r->mask = mask;
	return 1;
}

/* Each step reads the snapshot afresh: without this, clang keeps values loaded by one
 * step for the next, and the verifier then carries what it learned about each subflow
 * in one step into the next, exploring every combination (hundreds of thousands of
 * instructions for 'use ...' followed by 'round_robin ...'). */
#define mpp_fresh() asm volatile("" ::: "memory")

#define MPP_LOWEST <
#define MPP_HIGHEST >

/* use [where WHERE] by lowest|highest FIELD. Whether a match was found is a flag of
 * its own: the verifier then need not tell apart the states that differ only in which
 * subflow is best so far. */
#define MPP_USE(snap, r, step, WHERE, BETTER, FIELD)                                        \
	do {                                                                                \
		mpp_fresh();                                                                   \
		__u32 found_ = 0, best_ = 0;                                                \
		__u64 value_ = 0;                                                           \
		for (int i_ = 0; i_ < MPP_MAX_SUBFLOWS; i_++) {                            \
			const struct mpp_subflow *s_ = &(snap)->sf[i_];                     \
			if (!(s_->flags & MPP_F_USABLE) || !WHERE(&(snap)->conn, s_))      \
				continue;                                                   \
			if (!found_ || (__u64)s_->FIELD BETTER value_) {                    \
				found_ = 1;                                                 \
				best_ = i_;                                                 \
				value_ = s_->FIELD;                                         \
			}                                                                   \
		}                                                                           \
		if (found_)                                                                 \
			return mpp_found((r), (step), 1u << best_);                         \
	} while (0)

/* use any */
#define MPP_USE_ANY(snap, r, step)                                                          \
	do {                                                                                \
		mpp_fresh();                                                                   \
		for (int i_ = 0; i_ < MPP_MAX_SUBFLOWS; i_++) {                            \
			if ((snap)->sf[i_].flags & MPP_F_USABLE)                            \
				return mpp_found((r), (step), 1u << i_);                    \
		}                                                                           \
	} while (0)

/* redundant [where WHERE]: every match. On the MPTCP development tree's kernel this does
 * not duplicate new data: the push path sends the next pending data on each scheduled
 * subflow in turn; only a retransmission (get_retrans, MPP_FOR_RETRANS) re-sends the
 * same data on every scheduled subflow. A flag, not the mask, says whether the step
 * found anything: the verifier then need not explore every mask. */
#define MPP_REDUNDANT(snap, r, step, WHERE)                                                 \
	do {                                                                                \
		mpp_fresh();                                                                   \
		__u32 m_ = 0, found_ = 0;                                                   \
		for (int i_ = 0; i_ < MPP_MAX_SUBFLOWS; i_++) {                            \
			const struct mpp_subflow *s_ = &(snap)->sf[i_];                     \
			if ((s_->flags & MPP_F_USABLE) && WHERE(&(snap)->conn, s_)) {      \
				m_ |= 1u << i_;                                             \
				found_ = 1;                                                 \
			}                                                                   \
		}                                                                           \
		if (found_)                                                                 \
			return mpp_found((r), (step), m_);                                  \
	} while (0)

/* round_robin [where WHERE]: count the matches, then take match number turn % count
 * in a second pass. As above, a flag says whether there was a match, so the count and
 * the position stay unknown to the verifier and its states merge. The turn advances
 * by one, except for a retransmission, which takes no turn. */
#define MPP_ROUND_ROBIN(snap, r, step, WHERE)                                               \
	do {                                                                                \
		mpp_fresh();                                                                   \
		__u32 n_ = 0, found_ = 0;                                                   \
		for (int i_ = 0; i_ < MPP_MAX_SUBFLOWS; i_++) {                            \
			const struct mpp_subflow *s_ = &(snap)->sf[i_];                     \
			if ((s_->flags & MPP_F_USABLE) && WHERE(&(snap)->conn, s_)) {      \
				n_++;                                                       \
				found_ = 1;                                                 \
			}                                                                   \
		}                                                                           \
		if (found_) {                                                               \
			__u32 k_ = (snap)->conn.turn % n_;                                  \
			if ((snap)->conn.purpose != MPP_FOR_RETRANS)                        \
				(r)->turn = (snap)->conn.turn + 1;                          \
			mpp_fresh();                                                        \
			for (int i_ = 0; i_ < MPP_MAX_SUBFLOWS; i_++) {                    \
				const struct mpp_subflow *s_ = &(snap)->sf[i_];             \
				if (!(s_->flags & MPP_F_USABLE) || !WHERE(&(snap)->conn, s_)) \
					continue;                                           \
				if (k_ == 0)                                                \
					return mpp_found((r), (step), 1u << i_);            \
				k_--;                                                       \
			}                                                                   \
			return mpp_found((r), (step), 0); /* not reached: k_ < n_ */        \
		}                                                                           \
	} while (0)

#endif
`;

export const KERNEL_H = String.raw`/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mptcp_policy_kernel.h - part of mptcp-policy, hand-written (not generated).
 *
 * The struct_ops side of a generated scheduler: the kernel types, fields and kfuncs it
 * uses (CO-RE: preserve_access_index, so no vmlinux.h and no kernel headers), and
 * mpp_get_send() and mpp_get_retrans(), which fill a snapshot from mptcp_sock, the
 * subflow contexts and their tcp_sock, run the decision core and mark the chosen
 * subflows scheduled.
 *
 * Interface: the BPF MPTCP packet scheduler of the MPTCP development tree
 * (multipath-tcp/mptcp_net-next, net/mptcp/bpf.c): struct_ops mptcp_sched_ops with
 * get_send(msk) and get_retrans(msk), the subflow iterator kfuncs
 * bpf_iter_mptcp_subflow_{new,next,destroy}, bpf_mptcp_subflow_tcp_sock(),
 * mptcp_subflow_active(), bpf_sk_stream_memory_free(), mptcp_subflow_set_scheduled().
 *
 * What the kernel does with the scheduled subflows (net/mptcp/protocol.c): for new data
 * (__mptcp_push_pending) it sends the next pending data on each scheduled subflow in
 * list order, so several scheduled subflows share the data rather than each carrying
 * all of it; a subflow whose send buffer is full would end the push loop, which is
 * why such subflows are not chosen. For a retransmission (__mptcp_retrans) it re-sends
 * the oldest unacknowledged data on every scheduled subflow.
 */
#ifndef MPTCP_POLICY_KERNEL_H
#define MPTCP_POLICY_KERNEL_H

#include "mptcp_policy_types.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "mptcp_policy.h"

#define MPP_AF_INET 2
#define MPP_AF_INET6 10
/* Subflows walked at most: more than the kernel allows (MPTCP_PM_ADDR_MAX + 1). */
#define MPP_MAX_WALK 16

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be32 u6_addr32[4];
	} in6_u;
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
	struct sock_common __sk_common;
	unsigned long sk_pacing_rate;
};

struct tcp_sock {
	__u32 srtt_us;
	__u32 mdev_us;
	__u32 snd_cwnd;
	__u32 packets_out;
	__u32 lost_out;
	__u32 retrans_out;
	__u32 write_seq;
	__u32 snd_una;
};

struct mptcp_pm_data {
	bool server_side;
};

struct mptcp_sock {
	struct mptcp_pm_data pm;
};

struct mptcp_subflow_context {
	__u32 request_bkup : 1;
	__u32 backup : 1;
	__u32 stale : 1;
};

#pragma clang attribute pop

/* Members are matched to the running kernel's by name when the object is loaded. */
struct mptcp_sched_ops {
	int (*get_send)(struct mptcp_sock *msk);
	int (*get_retrans)(struct mptcp_sock *msk);
	char name[16];
	void (*init)(struct mptcp_sock *msk);
	void (*release)(struct mptcp_sock *msk);
};

struct bpf_iter_mptcp_subflow {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

extern int bpf_iter_mptcp_subflow_new(struct bpf_iter_mptcp_subflow *it, struct sock *sk) __weak __ksym;
extern struct mptcp_subflow_context *bpf_iter_mptcp_subflow_next(struct bpf_iter_mptcp_subflow *it) __weak __ksym;
extern void bpf_iter_mptcp_subflow_destroy(struct bpf_iter_mptcp_subflow *it) __weak __ksym;
extern struct sock *bpf_mptcp_subflow_tcp_sock(const struct mptcp_subflow_context *subflow) __ksym;
extern bool mptcp_subflow_active(struct mptcp_subflow_context *subflow) __ksym;
extern bool bpf_sk_stream_memory_free(const struct sock *sk) __ksym;
extern void mptcp_subflow_set_scheduled(struct mptcp_subflow_context *subflow, bool scheduled) __ksym;

/* for each subflow of the connection sk: an open-coded iterator, destroyed on every way
 * out of the loop by the cleanup attribute, as the verifier requires. */
#define mpp_for_each_subflow(cur, sk)                                                              \
	for (struct bpf_iter_mptcp_subflow iter_                                                     \
		     __attribute__((aligned(8), cleanup(bpf_iter_mptcp_subflow_destroy))),           \
	     *init_ __attribute__((unused)) =                                                       \
		     (bpf_iter_mptcp_subflow_new(&iter_, (sk)), (void)bpf_iter_mptcp_subflow_destroy, \
		      (void *)0);                                                                    \
	     ((cur) = bpf_iter_mptcp_subflow_next(&iter_));)

/* The interface class of a local address, kept current by the daemon from rtnetlink.
 * Key: family (4 or 6) and the address in network byte order (IPv4 in addr[0..3]);
 * value: bit i set for each policy interface class i the interface belongs to. */
struct mpp_addr_key {
	__u32 family;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mpp_addr_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpp_iface SEC(".maps");

/* Per connection: the snapshot (too large for the BPF stack) and the round_robin turn.
 * Socket storage is per connection and get_send runs under the msk socket lock. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mpp_snapshot);
} mpp_state SEC(".maps");

static __always_inline bool mpp_v4mapped(const __u32 *w)
{
	return w[0] == 0 && w[1] == 0 && w[2] == 0x0000ffffu;
}

/* An address as the core sees it (host-order words, IPv4 in w[0]); returns its kind. */
static __always_inline __u8 mpp_load_addr(__u32 *w, unsigned short family, __be32 v4, const struct in6_addr *v6)
{
	w[1] = w[2] = w[3] = 0;
	if (family == MPP_AF_INET) {
		w[0] = bpf_ntohl(v4);
		return 4;
	}
	w[0] = bpf_ntohl(v6->in6_u.u6_addr32[0]);
	w[1] = bpf_ntohl(v6->in6_u.u6_addr32[1]);
	w[2] = bpf_ntohl(v6->in6_u.u6_addr32[2]);
	w[3] = bpf_ntohl(v6->in6_u.u6_addr32[3]);
	if (!mpp_v4mapped(w))
		return 6;
	w[0] = w[3];
	w[1] = w[2] = w[3] = 0;
	return 4;
}

static __always_inline void mpp_fill_conn(struct mpp_conn *c, struct mptcp_sock *msk)
{
	const struct sock *sk = (const struct sock *)msk;
	unsigned short family = sk->__sk_common.skc_family;

	c->local_kind = mpp_load_addr(c->local, family, sk->__sk_common.skc_rcv_saddr, &sk->__sk_common.skc_v6_rcv_saddr);
	c->remote_kind = mpp_load_addr(c->remote, family, sk->__sk_common.skc_daddr, &sk->__sk_common.skc_v6_daddr);
	c->family = c->local_kind == 4 && c->remote_kind == 4 ? 4 : 6;
	c->local_port = sk->__sk_common.skc_num;
	c->remote_port = bpf_ntohs(sk->__sk_common.skc_dport);
	c->side = msk->pm.server_side ? MPP_SIDE_SERVER : MPP_SIDE_CLIENT;
}

static __always_inline __u64 mpp_iface_of(const struct sock *ssk)
{
	struct mpp_addr_key key = {};
	__u32 w[4];
	__u64 *classes;

	key.family = mpp_load_addr(w, ssk->__sk_common.skc_family, ssk->__sk_common.skc_rcv_saddr,
				   &ssk->__sk_common.skc_v6_rcv_saddr);
	for (int i = 0; i < 4; i++) {
		key.addr[4 * i] = w[i] >> 24;
		key.addr[4 * i + 1] = w[i] >> 16;
		key.addr[4 * i + 2] = w[i] >> 8;
		key.addr[4 * i + 3] = w[i];
	}
	classes = bpf_map_lookup_elem(&mpp_iface, &key);
	return classes ? *classes : 0;
}

static __always_inline void mpp_fill_subflow(struct mpp_subflow *s, struct mptcp_subflow_context *subflow)
{
	struct sock *ssk = bpf_mptcp_subflow_tcp_sock(subflow);
	struct tcp_sock *tp;

	__builtin_memset(s, 0, sizeof(*s));
	if (!ssk)
		return;
	tp = bpf_skc_to_tcp_sock(ssk);
	if (!tp)
		return;
	if (mptcp_subflow_active(subflow))
		s->flags |= MPP_F_ACTIVE;
	if (!bpf_sk_stream_memory_free(ssk))
		s->flags |= MPP_F_SNDBUF_FULL;
	if (BPF_CORE_READ_BITFIELD(subflow, backup) || BPF_CORE_READ_BITFIELD(subflow, request_bkup))
		s->flags |= MPP_F_BACKUP;
	if (BPF_CORE_READ_BITFIELD(subflow, stale))
		s->flags |= MPP_F_STALE;
	s->rtt = tp->srtt_us >> 3;
	s->rtt_var = tp->mdev_us >> 2;
	s->cwnd = tp->snd_cwnd;
	s->inflight = tp->packets_out;
	s->lost = tp->lost_out;
	s->retrans = tp->retrans_out;
	s->queued = tp->write_seq - tp->snd_una;
	s->pacing = ssk->sk_pacing_rate;
	s->iface = mpp_iface_of(ssk);
}

/* No scheduler of the policy serves the connection: what the kernel's default scheduler
 * would prefer, roughly: the first usable non-backup subflow, else the first usable
 * (for a retransmission, usable means idle as well, as in mptcp_subflow_get_retrans()). */
static __always_inline __u32 mpp_kernel_like(const struct mpp_snapshot *snap)
{
	__u32 backup = 0;

	for (int i = 0; i < MPP_MAX_SUBFLOWS; i++) {
		__u32 flags = snap->sf[i].flags;

		if (!(flags & MPP_F_USABLE))
			continue;
		if (!(flags & MPP_F_BACKUP))
			return 1u << i;
		if (!backup)
			backup = 1u << i;
	}
	return backup;
}

/* get_send and get_retrans: snapshot, decide, mark. sched < 0: the policy's choice of
 * scheduler (mpp_select); otherwise scheduler number sched alone (mpp_run). */
static __always_inline int mpp_schedule(struct mptcp_sock *msk, int sched, __u8 purpose)
{
	struct sock *sk = (struct sock *)msk;
	struct mptcp_subflow_context *subflow;
	struct mpp_snapshot *snap;
	struct mpp_result r = {};
	__u32 n = 0, total = 0;

	snap = bpf_sk_storage_get(&mpp_state, msk, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!snap)
		return -1;
	mpp_fill_conn(&snap->conn, msk);
	snap->conn.purpose = purpose;
	mpp_for_each_subflow(subflow, sk) {
		if (total >= MPP_MAX_WALK)
			break;
		total++;
		if (n < MPP_MAX_SUBFLOWS) {
			mpp_fill_subflow(&snap->sf[n], subflow);
			n++;
		}
	}
	snap->conn.nr = n;
	snap->conn.subflows = total;
	for (__u32 i = n; i < MPP_MAX_SUBFLOWS; i++)
		snap->sf[i & (MPP_MAX_SUBFLOWS - 1)].flags = 0;
	mpp_prepare(snap);
	r.turn = snap->conn.turn;
	if (sched < 0)
		sched = mpp_select(&snap->conn);
	if (sched >= 0)
		mpp_run(sched, snap, &r);
	if (!r.sched)
		r.mask = mpp_kernel_like(snap);
	snap->conn.turn = r.turn;
	if (!r.mask)
		return -1;

	n = 0;
	mpp_for_each_subflow(subflow, sk) {
		if (n >= MPP_MAX_SUBFLOWS)
			break;
		if (r.mask & (1u << n))
			mptcp_subflow_set_scheduled(subflow, true);
		n++;
	}
	return 0;
}

/* New data: the policy's steps over the usable subflows. */
static __always_inline int mpp_get_send(struct mptcp_sock *msk, int sched)
{
	return mpp_schedule(msk, sched, MPP_FOR_SEND);
}

/* A retransmission: the same steps over the usable subflows that are not stale and have
 * nothing outstanding, so it never lands on the subflow that stalled, and takes no
 * round_robin turn. Without it, the kernel would ask get_send. */
static __always_inline int mpp_get_retrans(struct mptcp_sock *msk, int sched)
{
	return mpp_schedule(msk, sched, MPP_FOR_RETRANS);
}

#endif
`;

export const TEST_H = String.raw`/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mptcp_policy_test.h - part of mptcp-policy, hand-written (not generated).
 *
 * The decision core in a program type that BPF_PROG_TEST_RUN executes on any kernel:
 * an XDP program reads the snapshot from an array map (written from user space before
 * each run; mpp_prepare() marks its usable subflows in place, as the struct_ops side
 * does in socket storage) and writes struct mpp_result into the first 8 bytes of the
 * packet, which the test run returns as data_out. The packet itself is only a carrier
 * (64 bytes).
 */
#ifndef MPTCP_POLICY_TEST_H
#define MPTCP_POLICY_TEST_H

#include "mptcp_policy.h"

struct mpp_test_input {
	__u32 force;	/* 0: the policy picks the scheduler; n: run scheduler n-1 alone */
	__u32 pad;
	struct mpp_snapshot snap;
};

_Static_assert(sizeof(struct mpp_test_input) == 440, "struct mpp_test_input layout");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpp_test_input);
} mpp_input SEC(".maps");

/* An XDP program NAME that answers with RUN(index, snapshot, result) for the scheduler
 * SELECT(connection) picks, or the one the input forces. */
#define MPP_TEST_PROGRAM(NAME, SELECT, RUN)                                                 \
	SEC("xdp")                                                                          \
	int NAME(struct xdp_md *ctx)                                                        \
	{                                                                                   \
		void *data = (void *)(long)ctx->data;                                       \
		void *end = (void *)(long)ctx->data_end;                                    \
		struct mpp_result *out = data;                                              \
		struct mpp_result r = {};                                                   \
		struct mpp_test_input *in;                                                  \
		__u32 zero = 0;                                                             \
		int index;                                                                  \
                                                                                            \
		if ((void *)(out + 1) > end)                                                \
			return XDP_ABORTED;                                                 \
		in = bpf_map_lookup_elem(&mpp_input, &zero);                                \
		if (!in)                                                                    \
			return XDP_ABORTED;                                                 \
		mpp_prepare(&in->snap);                                                     \
		r.turn = in->snap.conn.turn;                                                \
		index = in->force ? (int)in->force - 1 : SELECT(&in->snap.conn);           \
		if (index >= 0)                                                             \
			RUN(index, &in->snap, &r);                                          \
		*out = r;                                                                   \
		return XDP_PASS;                                                            \
	}

#endif
`;

/** The test-run program for a policy: the generated core in the hand-written harness. */
export const TEST_BPF_C = String.raw`/* SPDX-License-Identifier: GPL-2.0 */
/* mptcp_policy_test.bpf.c - part of mptcp-policy, hand-written (not generated):
 * the generated decision core (sched_core.h) in an XDP program for BPF_PROG_TEST_RUN. */
#include "mptcp_policy_types.h"
#include "mptcp_policy_test.h"
#include "sched_core.h"

char _license[] SEC("license") = "GPL";

MPP_TEST_PROGRAM(mpp_test, mpp_select, mpp_run)
`;

/** Hand-written files by name, in the order they are written out. */
export const HAND_WRITTEN_FILES: readonly { readonly name: string; readonly text: string }[] = [
  { name: "mptcp_policy_types.h", text: TYPES_H },
  { name: "mptcp_policy.h", text: POLICY_H },
  { name: "mptcp_policy_kernel.h", text: KERNEL_H },
  { name: "mptcp_policy_test.h", text: TEST_H },
  { name: "mptcp_policy_test.bpf.c", text: TEST_BPF_C },
];
