/* SPDX-License-Identifier: MIT */
/* Commands that configure the dataplane: address, neighbours, workers. */
#include <string.h>

#include "pc_mgmt.h"

static int cmd_ip_address(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t a;
	uint8_t len;

	if (pc_arg_count(ctx, argc, 1) || pc_arg_prefix(ctx, "address", argv[0], &a, &len))
		return -1;
	uint32_t mask = len == 32 ? ~0u : ~(~0u >> len);

	if (len < 31 && ((a & ~mask) == 0 || (a & ~mask) == ~mask))
		return pc_cmd_fail(ctx, "%s is the network or broadcast address of its prefix", argv[0]);
	ctx->dp->addr = a;
	ctx->dp->prefix_len = len;
	return 0;
}

static int cmd_ip_gateway(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) || pc_arg_ipv4(ctx, "gateway", argv[0], &ctx->dp->gateway);
}

static int cmd_ip_ttl(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t v;

	if (pc_arg_count(ctx, argc, 1) || pc_arg_u32(ctx, "ttl", argv[0], 1, 255, &v))
		return -1;
	ctx->dp->ttl = (uint8_t)v;
	return 0;
}

static int cmd_arp_timeout(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "seconds", argv[0], 1, 86400, &ctx->dp->arp_timeout_s);
}

static int cmd_worker_idle(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_idle_cfg *idle = &ctx->dp->idle;

	if (argc == 1 && strcmp(argv[0], "busy") == 0) {
		idle->busy = true;
		return 0;
	}
	if (argc != 4 || strcmp(argv[0], "backoff") != 0)
		return pc_cmd_fail(ctx, "expected 'busy' or 'backoff' and 3 numbers");
	if (pc_arg_u32(ctx, "pause-after-us", argv[1], 0, 1000000, &idle->pause_after_us) ||
	    pc_arg_u32(ctx, "sleep-after-us", argv[2], idle->pause_after_us, 10000000,
		       &idle->sleep_after_us) ||
	    pc_arg_u32(ctx, "sleep-us", argv[3], 1, 100000, &idle->sleep_us))
		return -1;
	idle->busy = false;
	return 0;
}

static int cmd_worker_tx_hold(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "microseconds", argv[0], 0, 1000, &ctx->dp->idle.tx_hold_us);
}

static int cmd_port_mbufs(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "count", argv[0], 1024, 16u << 20, &ctx->dp->mbufs);
}

static int cmd_port_descriptors(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t rx, tx;

	if (pc_arg_count(ctx, argc, 2) || pc_arg_u32(ctx, "rx", argv[0], 64, 32768, &rx) ||
	    pc_arg_u32(ctx, "tx", argv[1], 64, 32768, &tx))
		return -1;
	ctx->dp->rx_desc = (uint16_t)rx;
	ctx->dp->tx_desc = (uint16_t)tx;
	return 0;
}

static int cmd_port_mtu(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t v;

	if (pc_arg_count(ctx, argc, 1) || pc_arg_u32(ctx, "mtu", argv[0], 576, 9000, &v))
		return -1;
	ctx->dp->mtu = (uint16_t)v;
	return 0;
}

void pc_cmd_apply_dp(const struct pc_cmd_ctx *ctx)
{
	pc_dp_apply_tunables(ctx->dp);
}

#define PORT "the port and its queues are set up at start"
#define ADDR "the interface and its neighbour tables are set up at start"

static const struct pc_cmd dp_cmds[] = {
	{"port mtu", "port mtu 576..9000", cmd_port_mtu, 0, PORT},
	{"ip address", "ip address A.B.C.D/LEN", cmd_ip_address, 0, ADDR},
	{"ip gateway", "ip gateway A.B.C.D", cmd_ip_gateway, 0, ADDR},
	{"ip ttl", "ip ttl 1..255", cmd_ip_ttl, 0, ADDR},
	{"arp timeout", "arp timeout SECONDS", cmd_arp_timeout, 0, ADDR},
	{"worker idle", "worker idle busy | backoff PAUSE_AFTER_US SLEEP_AFTER_US SLEEP_US",
	 cmd_worker_idle, PC_CMD_RUN, NULL, pc_cmd_apply_dp},
	{"worker tx-hold", "worker tx-hold 0..1000", cmd_worker_tx_hold, PC_CMD_RUN, NULL,
	 pc_cmd_apply_dp},
	{"port mbufs", "port mbufs COUNT", cmd_port_mbufs, 0, PORT},
	{"port descriptors", "port descriptors RX TX", cmd_port_descriptors, 0, PORT},
};

const struct pc_cmd_table pc_cmds_dataplane = {dp_cmds, sizeof(dp_cmds) / sizeof(dp_cmds[0])};
