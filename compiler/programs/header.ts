// The hand-written C the generated program selection includes: the data's structs,
// the glob matcher over a task's comm, the cgroup and network namespace tests, and
// the socket() hook itself. The generated part (emit.ts) only sizes the data and
// writes each statement's condition over slot numbers.
export const SOCKET_HEADER_FILE = "mptcp_policy_socket.h";

export const SOCKET_HEADER = String.raw`/* SPDX-License-Identifier: GPL-2.0 */
/* mptcp-policy: programs made MPTCP when they create a socket. Hand-written. */
#ifndef MPTCP_POLICY_SOCKET_H
#define MPTCP_POLICY_SOCKET_H

/* The UAPI types it uses, so that a build needs clang and libbpf's headers only. */
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

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MPP_AF_INET 2
#define MPP_AF_INET6 10
#define MPP_SOCK_STREAM 1
#define MPP_SOCK_TYPE_MASK 0xf
#define MPP_IPPROTO_TCP 6
#define MPP_IPPROTO_MPTCP 262
#define MPP_COMM_LEN 16

/* A program name pattern as state tables (compiler/programs/layout.ts). */
struct mpp_pattern {
	__u32 accepts[256];	/* bit i: element i takes this byte */
	__u32 stars;		/* bits of the '*' elements */
	__u32 start;		/* the first states */
	__u32 accept;		/* the end state */
	__u32 pad;
};

/* A cgroup by id and depth; id 0: it did not exist when loaded, never matches. */
struct mpp_cgroup {
	__u64 id;
	__u32 level;
	__u32 pad;
};

/* Only what the hook reads of the kernel's types; CO-RE finds the offsets. */
struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));
struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));
struct nsproxy {
	struct net *net_ns;
} __attribute__((preserve_access_index));
struct task_struct {
	struct nsproxy *nsproxy;
} __attribute__((preserve_access_index));

/* The network namespace of the task creating the socket (0 while it exits). */
static __always_inline __u32 mpp_current_netns(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

/*
 * Whether a comm matches a pattern: the states of all elements at once, one step per
 * byte (at most 15), so there is no backtracking and no loop the verifier must
 * follow more than 15 times. Stars never follow stars, so one shift closes them.
 */
static __always_inline bool mpp_program(const volatile struct mpp_pattern *p, const unsigned char *comm)
{
	__u32 states = p->start;
	__u32 stars = p->stars;

#pragma unroll
	for (int i = 0; i < MPP_COMM_LEN - 1; i++) {
		unsigned char c = comm[i];
		__u32 next;

		if (c == 0)
			break;
		next = ((states & p->accepts[c]) << 1) | (states & stars);
		states = next | ((next & stars) << 1);
		if (states == 0)
			return false;
	}
	return (states & p->accept) != 0;
}

/* The task is in the cgroup or below it. */
static __always_inline bool mpp_cgroup(const volatile struct mpp_cgroup *g)
{
	__u64 id = g->id;

	return id != 0 && bpf_get_current_ancestor_cgroup_id(g->level) == id;
}

/* What the generated condition reads of the task creating the socket. */
struct mpp_task {
	unsigned char comm[MPP_COMM_LEN];
	__u32 uid;
	int family;
};

#endif
`;
