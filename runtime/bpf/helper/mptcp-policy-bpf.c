// SPDX-License-Identifier: GPL-2.0
/*
 * mptcp-policy-bpf: the small libbpf program the Node CLI runs for what Node cannot do
 * (the bpf() system call). Built into dist/ by scripts/build.mjs with gcc and libbpf.
 *
 *   load OBJ                      load every program, print one JSON line per program:
 *                                 name, xlated and verified instruction counts
 *   run OBJ PROG                  stdin: records of the mpp_input map's value size
 *                                 (struct mpp_test_input); for each: write it to the map,
 *                                 BPF_PROG_TEST_RUN PROG once, write the first 8 bytes of
 *                                 the packet (struct mpp_result). A record whose pad field
 *                                 is n > 0 belongs to tracked connection n: its turn is
 *                                 replaced by the turn the last result for n left.
 *   bench OBJ PROG REPEAT         stdin: one record; run PROG REPEAT times in the kernel
 *                                 (test run with repeat), print JSON: ns per run
 *   attach OBJ PINDIR             all or nothing: load OBJ, unregister what PINDIR holds
 *                                 from an earlier attach, then pin and register every
 *                                 struct_ops map of OBJ (pinned so that detach finds
 *                                 them); prints "unregistered NAME", "registered NAME"
 *   detach PINDIR                 unregister and unpin every struct_ops map in PINDIR,
 *                                 remove PINDIR; prints "unregistered NAME"
 *   set-iface MAP                 replace the pinned address -> interface class map's
 *                                 entries with stdin's records (20-byte key, 8-byte value)
 *   socket-attach OBJ PIN         stdin: the bytes of OBJ's .rodata (the program selection's
 *                                 data); load OBJ with them, attach its one program, then
 *                                 replace (and so detach) what PIN held with its link;
 *                                 prints "attached NAME"
 *   socket-probe                  load and attach a program that changes nothing on
 *                                 update_socket_protocol, then detach it: prints "ok", or
 *                                 fails with "load: ERRNO" or "attach: ERRNO"
 *
 * Exit status: 0 ok, 1 the kernel refused (the message, and a verifier log when there is
 * one, on stderr), 2 usage. Errors are one line starting with "error: ".
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define RESULT_SIZE 8
#define PACKET_SIZE 64
#define BPF_FS_MAGIC 0xcafe4a11
/* struct mpp_test_input: force at 0, pad (tracked connection) at 4, snapshot at 8 with
 * conn.turn at 44; struct mpp_result: turn at 4. */
#define INPUT_CONN_OFF 4
#define INPUT_TURN_OFF (8 + 44)
#define RESULT_TURN_OFF 4
#define MAX_TRACKED 65536

static __u32 turns[MAX_TRACKED];

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, format, args);
}

static int fail(const char *format, ...)
{
	va_list args;

	fprintf(stderr, "error: ");
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fprintf(stderr, "\n");
	return 1;
}

static struct bpf_object *open_and_load(const char *path)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;
	int err;

	opts.pin_root_path = "/sys/fs/bpf/mptcp-policy";
	obj = bpf_object__open_file(path, &opts);
	if (!obj) {
		fail("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	err = bpf_object__load(obj);
	if (err) {
		/* libbpf has printed the verifier log above (print_libbpf) */
		fail("loading %s: %s", path, strerror(-err));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

static int cmd_load(const char *path)
{
	struct bpf_object *obj = open_and_load(path);
	struct bpf_program *prog;

	if (!obj)
		return 1;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;

		if (bpf_program__fd(prog) < 0 || prog_info(bpf_program__fd(prog), &info))
			continue;
		printf("{\"name\":\"%s\",\"xlated_insns\":%u,\"jited_bytes\":%u,\"verified_insns\":%u}\n", bpf_program__name(prog),
		       info.xlated_prog_len / 8, info.jited_prog_len, info.verified_insns);
	}
	bpf_object__close(obj);
	return 0;
}

static int find(struct bpf_object *obj, const char *name, int *prog_fd, int *map_fd, __u32 *record_size)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "mpp_input");

	if (!prog)
		return fail("no program %s", name);
	if (!map)
		return fail("no map mpp_input");
	*prog_fd = bpf_program__fd(prog);
	*map_fd = bpf_map__fd(map);
	*record_size = bpf_map__value_size(map);
	return 0;
}

static int read_full(void *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		size_t n = fread((char *)buf + got, 1, size - got, stdin);

		if (n == 0)
			return got == 0 ? 0 : -1;
		got += n;
	}
	return 1;
}

static int test_run(int prog_fd, __u32 repeat, __u8 *out, __u32 *duration)
{
	__u8 packet[PACKET_SIZE] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .data_out = out,
		    .data_size_out = PACKET_SIZE, .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return fail("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (opts.retval != 2 /* XDP_PASS */)
		return fail("the program answered %u, not XDP_PASS: bad input", opts.retval);
	*duration = opts.duration;
	return 0;
}

static int cmd_run(const char *path, const char *name)
{
	struct bpf_object *obj = open_and_load(path);
	int prog_fd, map_fd, status = 0, got;
	__u32 size, zero = 0, duration;
	__u8 out[PACKET_SIZE];
	void *record;

	if (!obj)
		return 1;
	if (find(obj, name, &prog_fd, &map_fd, &size))
		return 1;
	record = malloc(size);
	while ((got = read_full(record, size)) > 0) {
		__u32 conn = 0;

		if (size >= INPUT_TURN_OFF + 4) {
			memcpy(&conn, (__u8 *)record + INPUT_CONN_OFF, 4);
			if (conn >= MAX_TRACKED)
				conn = 0;
			if (conn)
				memcpy((__u8 *)record + INPUT_TURN_OFF, &turns[conn], 4);
		}
		if (bpf_map_update_elem(map_fd, &zero, record, BPF_ANY)) {
			status = fail("writing the snapshot: %s", strerror(errno));
			break;
		}
		if (test_run(prog_fd, 1, out, &duration)) {
			status = 1;
			break;
		}
		if (conn)
			memcpy(&turns[conn], out + RESULT_TURN_OFF, 4);
		fwrite(out, 1, RESULT_SIZE, stdout);
	}
	if (got < 0)
		status = fail("stdin ended inside a record of %u bytes", size);
	fflush(stdout);
	free(record);
	bpf_object__close(obj);
	return status;
}

static int cmd_bench(const char *path, const char *name, const char *repeat_text)
{
	struct bpf_object *obj = open_and_load(path);
	__u32 size, zero = 0, duration, repeat = (__u32)strtoul(repeat_text, NULL, 10);
	struct bpf_prog_info info;
	__u8 out[PACKET_SIZE];
	int prog_fd, map_fd;
	void *record;

	if (!obj)
		return 1;
	if (find(obj, name, &prog_fd, &map_fd, &size))
		return 1;
	record = malloc(size);
	if (read_full(record, size) != 1)
		return fail("stdin: expected one record of %u bytes", size);
	if (bpf_map_update_elem(map_fd, &zero, record, BPF_ANY))
		return fail("writing the snapshot: %s", strerror(errno));
	if (test_run(prog_fd, repeat, out, &duration))
		return 1;
	if (prog_info(prog_fd, &info))
		return fail("prog info: %s", strerror(errno));
	printf("{\"ns\":%u,\"repeat\":%u,\"xlated_insns\":%u,\"jited_bytes\":%u,\"verified_insns\":%u}\n", duration, repeat,
	       info.xlated_prog_len / 8, info.jited_prog_len, info.verified_insns);
	free(record);
	bpf_object__close(obj);
	return 0;
}

static int ensure_bpffs(const char *dir)
{
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
			return fail("cannot mount the BPF file system on /sys/fs/bpf: %s", strerror(errno));
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail("cannot create %s: %s", dir, strerror(errno));
	return 0;
}

/* Unregister one pinned struct_ops map and remove its pin. A map that is not registered
 * (ENOENT: pinned but never registered; EINPROGRESS: unregistered, still in use by
 * connections that chose it) is done with, too. */
static int unregister_pin(const char *pin, const char *name)
{
	__u32 zero = 0;
	int fd = bpf_obj_get(pin), status = 0;

	if (fd < 0)
		return fail("%s: %s", pin, strerror(errno));
	if (bpf_map_delete_elem(fd, &zero) && errno != ENOENT && errno != EINPROGRESS)
		status = fail("unregistering %s: %s", name, strerror(errno));
	close(fd);
	if (!status && unlink(pin))
		status = fail("removing %s: %s", pin, strerror(errno));
	return status;
}

/* Every pin in pindir: unregister it, print "unregistered NAME". Returns 0 when all went. */
static int unregister_all(const char *pindir)
{
	DIR *dir = opendir(pindir);
	struct dirent *entry;
	char pin[4096];
	int status = 0;

	if (!dir)
		return errno == ENOENT ? 0 : fail("%s: %s", pindir, strerror(errno));
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(pin, sizeof(pin), "%s/%s", pindir, entry->d_name);
		if (unregister_pin(pin, entry->d_name))
			status = 1;
		else
			printf("unregistered %s\n", entry->d_name);
	}
	closedir(dir);
	return status;
}

/* Undo a partial attach: unregister the maps registered so far and remove the pins made,
 * those of the maps before `unpinned` (NULL: all were pinned). */
static void roll_back(struct bpf_object *obj, const char *pindir, struct bpf_map *unpinned)
{
	struct bpf_map *map;
	char pin[4096];
	__u32 zero = 0;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		if (map == unpinned)
			break;
		bpf_map_delete_elem(bpf_map__fd(map), &zero); /* ENOENT where not registered */
		snprintf(pin, sizeof(pin), "%s/%s", pindir, bpf_map__name(map));
		unlink(pin);
	}
}

/* Attach all of OBJ's schedulers or none. The object is loaded (verifier included)
 * before anything changes; then what an earlier attach left in pindir is unregistered
 * (after a crash its registrations survive, and registering the same names again would
 * fail with EEXIST); then each struct_ops map is pinned and registered. Pinning comes
 * first so that a registration never exists without a pin for detach to find. On any
 * failure the maps registered so far are unregistered and the pins removed. */
static int cmd_attach(const char *path, const char *pindir)
{
	struct bpf_object *obj;
	struct bpf_map *map;
	char pin[4096];

	if (ensure_bpffs("/sys/fs/bpf/mptcp-policy") || ensure_bpffs(pindir))
		return 1;
	obj = open_and_load(path);
	if (!obj)
		return 1;
	if (unregister_all(pindir)) {
		bpf_object__close(obj);
		return fail("the schedulers attached before could not all be unregistered");
	}
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		snprintf(pin, sizeof(pin), "%s/%s", pindir, bpf_map__name(map));
		if (bpf_obj_pin(bpf_map__fd(map), pin)) {
			int err = errno;

			roll_back(obj, pindir, map);
			return fail("pinning %s: %s", pin, strerror(err));
		}
	}
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		/* The link is not destroyed: with the plain .struct_ops section, the
		 * registration stays with the kernel after we exit. */
		if (!bpf_map__attach_struct_ops(map)) {
			int err = errno;

			roll_back(obj, pindir, NULL);
			return fail("registering %s: %s", bpf_map__name(map), strerror(err));
		}
		printf("registered %s\n", bpf_map__name(map));
	}
	return 0;
}

/* Unregister and unpin every scheduler attach pinned; the directory goes too. */
static int cmd_detach(const char *pindir)
{
	int status = unregister_all(pindir);

	if (!status && rmdir(pindir) && errno != ENOENT)
		status = fail("removing %s: %s", pindir, strerror(errno));
	return status;
}

static int cmd_set_iface(const char *pin)
{
	__u8 key[20], next[20], record[28];
	int fd = bpf_obj_get(pin), got;

	if (fd < 0)
		return fail("%s: %s", pin, strerror(errno));
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, sizeof(key));
		if (bpf_map_delete_elem(fd, key))
			return fail("clearing %s: %s", pin, strerror(errno));
	}
	while ((got = read_full(record, sizeof(record))) > 0) {
		if (bpf_map_update_elem(fd, record, record + 20, BPF_ANY))
			return fail("updating %s: %s", pin, strerror(errno));
	}
	close(fd);
	return got < 0 ? fail("stdin ended inside a record") : 0;
}

/* The object's .rodata map (libbpf names it after the object: "<prefix>.rodata"). */
static struct bpf_map *rodata_of(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);

		if (bpf_map__is_internal(map) && len >= 7 && !strcmp(name + len - 7, ".rodata"))
			return map;
	}
	return NULL;
}

/* Attach the program selection: the new link is attached before the old one's pin is
 * removed, so there is no moment without a program. */
static int cmd_socket_attach(const char *path, const char *pin)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	static __u8 data[1 << 20];
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct bpf_map *rodata;
	int got, err;

	got = (int)fread(data, 1, sizeof(data), stdin);
	if (got <= 0 || got == (int)sizeof(data))
		return fail("stdin must hold the selection's data");
	obj = bpf_object__open_file(path, &opts);
	if (!obj)
		return fail("cannot open %s: %s", path, strerror(errno));
	rodata = rodata_of(obj);
	if (!rodata || bpf_map__value_size(rodata) != (__u32)got) {
		bpf_object__close(obj);
		return fail("%s: .rodata is %u bytes, the data %d", path, rodata ? bpf_map__value_size(rodata) : 0, got);
	}
	if (bpf_map__set_initial_value(rodata, data, got)) {
		bpf_object__close(obj);
		return fail("setting .rodata: %s", strerror(errno));
	}
	err = bpf_object__load(obj);
	if (err) {
		bpf_object__close(obj);
		return fail("load: %s", strerror(-err));
	}
	prog = bpf_object__next_program(obj, NULL);
	if (!prog) {
		bpf_object__close(obj);
		return fail("%s has no program", path);
	}
	link = bpf_program__attach(prog);
	if (!link) {
		err = errno;
		bpf_object__close(obj);
		return fail("attach: %s", strerror(err));
	}
	/* The BPF file system has no rename: the new link runs already, so the old pin
	 * goes first (its program stops) and the new link takes its place. */
	if (ensure_bpffs("/sys/fs/bpf/mptcp-policy") || (unlink(pin) && errno != ENOENT) || bpf_obj_pin(bpf_link__fd(link), pin)) {
		err = errno;
		bpf_link__destroy(link);
		bpf_object__close(obj);
		return fail("pinning %s: %s", pin, strerror(err));
	}
	printf("attached %s\n", bpf_program__name(prog));
	/* The pin keeps the link: closing ours leaves the program attached. */
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}

/* Whether the kernel loads and attaches an fmod_ret program on update_socket_protocol.
 * The program returns 0, which makes the kernel call the function as if nothing were
 * attached, so probing changes no socket. */
static int cmd_socket_probe(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	int id, prog, link;

	id = libbpf_find_vmlinux_btf_id("update_socket_protocol", BPF_MODIFY_RETURN);
	if (id < 0)
		return fail("load: %s", strerror(-id));
	opts.expected_attach_type = BPF_MODIFY_RETURN;
	opts.attach_btf_id = id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "mpp_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return fail("load: %s", strerror(errno));
	link = bpf_link_create(prog, 0, BPF_MODIFY_RETURN, NULL);
	if (link < 0) {
		int err = errno;

		close(prog);
		return fail("attach: %s", strerror(err));
	}
	close(link);
	close(prog);
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(print_libbpf);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (argc == 3 && !strcmp(argv[1], "load"))
		return cmd_load(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "run"))
		return cmd_run(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "bench"))
		return cmd_bench(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return cmd_detach(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "set-iface"))
		return cmd_set_iface(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "socket-attach"))
		return cmd_socket_attach(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "socket-probe"))
		return cmd_socket_probe();
	fprintf(stderr, "usage: mptcp-policy-bpf load OBJ | run OBJ PROG | bench OBJ PROG REPEAT | attach OBJ PINDIR | detach PINDIR | set-iface MAP"
			" | socket-attach OBJ PIN | socket-probe\n");
	return 2;
}
