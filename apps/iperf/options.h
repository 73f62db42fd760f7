/* iperf's build options (include/ingot/options.h has the rest): a fiber per
 * connection (control, up to 32 streams, a client turned away), and
 * buffers for throughput: a pool of 16 MiB, 1 MiB windows per stream
 * (with 256 KiB, one stream into the guest ran at 0.83x the rate and 1.6x
 * the monitor's CPU per GB, and out of it at 0.64x and 1.7x). */
#define CONFIG_SCHED_FIBERS_MAX 40
#define CONFIG_SCHED_STACK_SIZE (16 * 1024)
#define CONFIG_NET_PKTS         8192
#define CONFIG_NET_TCP_CONNS    64
#define CONFIG_NET_TCP_RCVBUF   (1024 * 1024)
#define CONFIG_NET_TCP_SNDBUF   (1024 * 1024)
