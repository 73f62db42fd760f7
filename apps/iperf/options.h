/* iperf's build options (include/ingot/options.h has the rest): a fiber per
 * connection (control, up to 32 streams, a client turned away), and
 * buffers for throughput: a pool of 8 MiB, 256 KiB windows per stream. */
#define CONFIG_SCHED_FIBERS_MAX 40
#define CONFIG_SCHED_STACK_SIZE (16 * 1024)
#define CONFIG_NET_PKTS         4096
#define CONFIG_NET_TCP_CONNS    64
#define CONFIG_NET_TCP_RCVBUF   (256 * 1024)
#define CONFIG_NET_TCP_SNDBUF   (256 * 1024)
