/*
 * sd_notify for the daemon, as a tiny Node addon: Node has no Unix datagram
 * sockets, and systemd accepts notifications (with NotifyAccess=main) only from
 * the main process itself, so a helper process (systemd-notify) cannot send
 * WATCHDOG=1. notify(socket, message) sends one datagram to $NOTIFY_SOCKET
 * (a path, or an abstract name written with a leading '@') and returns 0 or
 * the errno. Built by scripts/build.mjs into dist/mptcp-policy-notify.node.
 */
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value result(napi_env env, int value)
{
	napi_value out;
	napi_create_int32(env, value, &out);
	return out;
}

static napi_value notify(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[sizeof(addr.sun_path) + 1];
	size_t path_len = 0, message_len = 0;
	char *message;
	ssize_t sent;
	int fd, error = 0;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2)
		return result(env, EINVAL);
	if (napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &path_len) != napi_ok || path_len == 0 ||
	    path_len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@'))
		return result(env, EINVAL);
	if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &message_len) != napi_ok)
		return result(env, EINVAL);
	message = malloc(message_len + 1);
	if (!message)
		return result(env, ENOMEM);
	napi_get_value_string_utf8(env, argv[1], message, message_len + 1, &message_len);

	memcpy(addr.sun_path, path, path_len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract: the name is the bytes that follow */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		error = errno;
	} else {
		sent = sendto(fd, message, message_len, MSG_NOSIGNAL, (struct sockaddr *)&addr,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len));
		if (sent < 0)
			error = errno;
		close(fd);
	}
	free(message);
	return result(env, error);
}

NAPI_MODULE_INIT()
{
	napi_value fn;

	napi_create_function(env, "notify", NAPI_AUTO_LENGTH, notify, NULL, &fn);
	napi_set_named_property(env, exports, "notify", fn);
	return exports;
}
